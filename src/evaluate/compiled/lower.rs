//! From regorus's syntax tree (its JSON form) to [`super::ir`]: names resolved once.
//!
//! Anything this does not know how to compile exactly — a construct, a builtin, a name it
//! cannot place — makes the rule that needs it [`Unsupported`], and that rule stays with the
//! interpreter. Lowering never guesses.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::tree::Tree as Json;
use regorus::Value;

use super::builtins;
use super::ir::*;
use super::schedule;
use crate::evaluate::native::library;

/// Why a rule cannot be compiled: it runs in the interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unsupported(pub(crate) String);

fn unsupported<T>(what: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(what.into()))
}

type Lowered<T> = Result<T, Unsupported>;

/// One policy file: its package, its imports and its text (spans point into it).
struct Module<'a> {
    package: Vec<String>,
    imports: HashMap<String, Vec<String>>,
    /// Every import's alias, `rego.v1`'s (`v1`) included.
    aliases: BTreeSet<String>,
    contents: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupKind {
    Complete,
    PartialSet,
    Function(usize),
}

/// Every definition of one rule or function path, across modules.
struct Group<'a> {
    kind: Option<GroupKind>,
    definitions: Vec<(usize, &'a Json)>,
    defaults: Vec<(usize, &'a Json)>,
    unsupported: Option<String>,
}

/// Where the library's functions resolve to native code: the names calls may spell them by.
pub(crate) struct NativeLibrary {
    /// Names a call may spell (e.g. `lib.days_since`), to the function's name.
    pub(crate) names: HashMap<String, String>,
}

enum Memo<T> {
    InProgress,
    Done(Lowered<T>),
}

pub(super) struct Lowering<'a> {
    modules: Vec<Module<'a>>,
    groups: BTreeMap<String, Group<'a>>,
    /// Every package path and each of its prefixes (`data.credwarden`, `data.credwarden.lib`).
    packages: BTreeSet<String>,
    /// Packages of the policy set whose modules are not here.
    absent: Vec<String>,
    library: Option<&'a NativeLibrary>,
    /// The data document: a rule at a path it already has a value for is ignored by the
    /// interpreter.
    data: &'a Value,
    pub(super) rules: Vec<Rule>,
    pub(super) functions: Vec<UserFunction>,
    rule_memo: HashMap<String, Memo<RuleId>>,
    function_memo: HashMap<String, Memo<FunctionId>>,
    /// Expressions marked to be computed once per run, so far.
    pub(super) onces: usize,
    /// Field reads (`e.field`, `lib.field(e, "name", fallback)`) lowered so far.
    pub(super) fields: usize,
}

fn field<'j>(json: &'j Json, name: &str) -> Lowered<&'j Json> {
    match json.get(name) {
        Some(v) => Ok(v),
        None => unsupported(format!("syntax tree without `{name}`")),
    }
}

/// The one variant of an externally tagged enum: `{"Variant": {...}}`.
fn variant(json: &Json) -> Lowered<(&str, &Json)> {
    match json.as_object() {
        Some([(k, v)]) => Ok((k, v)),
        _ => unsupported("unexpected syntax tree node"),
    }
}

fn span_text<'c>(contents: &'c str, span: &Json) -> Lowered<&'c str> {
    let start = span.get("start").and_then(Json::as_u64);
    let end = span.get("end").and_then(Json::as_u64);
    match (start, end) {
        (Some(s), Some(e)) => contents
            .get(s as usize..e as usize)
            .map_or_else(|| unsupported("span outside its source"), Ok),
        _ => unsupported("syntax tree span without bounds"),
    }
}

/// `a.b.c` as its parts, when the expression is a plain dotted name.
fn dotted(expr: &Json) -> Lowered<Vec<String>> {
    match variant(expr)? {
        ("Var", v) => Ok(vec![var_name(v)?]),
        ("RefDot", v) => {
            let mut parts = dotted(field(v, "refr")?)?;
            parts.push(dot_field(v)?);
            Ok(parts)
        }
        ("RefBrack", v) => {
            let mut parts = dotted(field(v, "refr")?)?;
            match variant(field(v, "index")?)? {
                ("String" | "RawString", s) => parts.push(string_value(s)?),
                _ => return unsupported("a computed name"),
            }
            Ok(parts)
        }
        _ => unsupported("a name that is not a path"),
    }
}

/// The reference a rule's head names (`p[k]` of `p[k] contains v if …`), if it has one.
fn rule_head(rule: &Json) -> Option<&Json> {
    let ("Spec", spec) = variant(rule).ok()? else {
        return None;
    };
    let (_, head) = field(spec, "head").and_then(variant).ok()?;
    field(head, "refr").ok()
}

/// The first name of a composite head's reference: `a` of `a.b.c`, `p` of `p[k]`.
fn head_root(refr: &Json) -> Option<String> {
    match variant(refr).ok()? {
        ("Var", v) => var_name(v).ok(),
        ("RefDot" | "RefBrack", v) => head_root(field(v, "refr").ok()?),
        _ => None,
    }
}

fn var_name(v: &Json) -> Lowered<String> {
    field(v, "value")?
        .as_str()
        .map(str::to_string)
        .map_or_else(|| unsupported("variable without a name"), Ok)
}

fn string_value(v: &Json) -> Lowered<String> {
    field(v, "value")?
        .as_str()
        .map(str::to_string)
        .map_or_else(|| unsupported("string literal without text"), Ok)
}

fn dot_field(v: &Json) -> Lowered<String> {
    field(v, "field")?
        .get(1)
        .and_then(Json::as_str)
        .map(str::to_string)
        .map_or_else(|| unsupported("field without a name"), Ok)
}

/// One query's variables (or a function's parameters): slot and line of declaration.
#[derive(Default)]
struct Level {
    vars: HashMap<String, (Slot, u64)>,
    params: bool,
    /// An `every` body, whose variables the interpreter does not treat as bound.
    every: bool,
}

/// The variables a definition's bodies bind, numbered in its frame.
#[derive(Default)]
struct Scope {
    levels: Vec<Level>,
    next: Slot,
}

impl Scope {
    /// The slot of variable `name` used on `line`. The interpreter sees a variable of an
    /// enclosing query only when it is declared on that line or above.
    fn lookup(&self, name: &str, line: u64) -> Lowered<Option<Slot>> {
        let innermost = self.levels.len().saturating_sub(1);
        for (depth, level) in self.levels.iter().enumerate().rev() {
            if let Some(&(slot, declared)) = level.vars.get(name) {
                if depth != innermost && !level.params && declared > line {
                    return unsupported(format!("`{name}` used above its declaration"));
                }
                return Ok(Some(slot));
            }
        }
        Ok(None)
    }

    fn is_declared(&self, name: &str) -> bool {
        self.levels.iter().any(|l| l.vars.contains_key(name))
    }

    /// Whether `name` is a variable of an enclosing `every` (its key or value).
    fn in_every(&self, slot: Slot) -> bool {
        self.levels
            .iter()
            .any(|l| l.every && l.vars.values().any(|&(s, _)| s == slot))
    }

    fn inside_every(&self) -> bool {
        self.levels.iter().any(|l| l.every)
    }

    fn declare(&mut self, name: &str, line: u64) -> Slot {
        let slot = self.next;
        self.next += 1;
        if name != "_" {
            self.levels
                .last_mut()
                .expect("a scope is open")
                .vars
                .insert(name.to_string(), (slot, line));
        }
        slot
    }

    fn push(&mut self) {
        self.levels.push(Level::default());
    }

    fn pop(&mut self) {
        self.levels.pop();
    }
}

/// The line of a node's span.
fn line_of(node: &Json) -> u64 {
    node.get("span")
        .and_then(|s| s.get("line"))
        .and_then(Json::as_u64)
        .unwrap_or(0)
}

/// An object literal, as a template when its keys are distinct constants.
fn template(fields: Vec<(Expr, Expr)>) -> Expr {
    let keys: Vec<&Value> = fields
        .iter()
        .filter_map(|(k, _)| match k {
            Expr::Const(v) => Some(v),
            _ => None,
        })
        .collect();
    let distinct: BTreeSet<&Value> = keys.iter().copied().collect();
    if keys.len() != fields.len() || distinct.len() != keys.len() || keys.is_empty() {
        return Expr::Object(fields);
    }
    let object: regorus::value::Object = keys.iter().map(|k| ((*k).clone(), Value::Null)).collect();
    let fields: Vec<(Value, Expr)> = fields
        .into_iter()
        .map(|(k, v)| match k {
            Expr::Const(k) => (k, v),
            _ => unreachable!("every key is a constant"),
        })
        .collect();
    let frozen = match Value::from(object) {
        Value::Object(o) => (*o).clone(),
        _ => unreachable!("an object"),
    };
    let order = frozen
        .keys_sorted()
        .map(|key| {
            fields
                .iter()
                .position(|(k, _)| k == key)
                .expect("every key has its field")
        })
        .collect();
    Expr::Template(Box::new(Template {
        object: frozen,
        fields,
        order,
    }))
}

/// A reference's accessors after its root: `.f` or `[e]`.
#[derive(Clone)]
enum Access<'j> {
    Field(String),
    Index(&'j Json),
}

impl<'a> Lowering<'a> {
    /// Read the modules of `ast` (regorus's `get_ast_as_json`).
    pub(super) fn new(
        ast: &'a Json,
        data: &'a Value,
        library: Option<&'a NativeLibrary>,
        all_packages: &[String],
    ) -> Lowered<Self> {
        let Some(policies) = ast.as_array() else {
            return unsupported("syntax tree is not a list of policies");
        };
        let mut lowering = Lowering {
            modules: Vec::new(),
            groups: BTreeMap::new(),
            packages: BTreeSet::new(),
            absent: Vec::new(),
            library,
            data,
            rules: Vec::new(),
            functions: Vec::new(),
            rule_memo: HashMap::new(),
            function_memo: HashMap::new(),
            onces: 0,
            fields: 0,
        };
        for policy in policies {
            lowering.add_module(policy)?;
        }
        let loaded: BTreeSet<String> = lowering
            .modules
            .iter()
            .map(|m| m.package.join("."))
            .collect();
        lowering.absent = all_packages
            .iter()
            .filter(|p| !loaded.contains(*p))
            .cloned()
            .collect();
        Ok(lowering)
    }

    fn add_module(&mut self, policy: &'a Json) -> Lowered<()> {
        let contents = field(field(policy, "source")?, "contents")?
            .as_str()
            .map_or_else(|| unsupported("policy without its text"), Ok)?;
        let ast = field(policy, "ast")?;
        let mut package = dotted(field(field(ast, "package")?, "refr")?)?;
        package.insert(0, "data".into());
        for i in 1..=package.len() {
            self.packages.insert(package[..i].join("."));
        }
        let mut imports = HashMap::new();
        let mut aliases = BTreeSet::new();
        for import in field(ast, "imports")?.as_array().into_iter().flatten() {
            let path = dotted(field(import, "refr")?)?;
            let alias = match import.get("as") {
                Some(span) if !span.is_null() => span_text(contents, span)?.to_string(),
                _ => path.last().cloned().unwrap_or_default(),
            };
            aliases.insert(alias.clone());
            if path.first().map(String::as_str) == Some("rego")
                || path.first().map(String::as_str) == Some("future")
            {
                continue;
            }
            imports.insert(alias, path);
        }
        let index = self.modules.len();
        self.modules.push(Module {
            package: package.clone(),
            imports,
            aliases,
            contents,
        });
        for rule in field(ast, "rules")?.as_array().into_iter().flatten() {
            self.add_rule(index, &package, rule);
        }
        Ok(())
    }

    fn add_rule(&mut self, module: usize, package: &[String], rule: &'a Json) {
        let mut record = |name: Lowered<String>, kind: Option<GroupKind>, default: bool| {
            let Ok(name) = name else {
                // A rule whose head is not a plain name (`a.b.c := …`, `p[k] contains v`)
                // defines something under its first name (`a`, `p`), which is left to the
                // interpreter with every rule that reads it; when even that name is unknown,
                // the whole package is left alone.
                let path = package.join(".");
                let under = rule_head(rule).and_then(head_root);
                let group = self
                    .groups
                    .entry(format!("{path}.{}", under.unwrap_or("*".into())))
                    .or_insert(Group {
                        kind: None,
                        definitions: Vec::new(),
                        defaults: Vec::new(),
                        unsupported: None,
                    });
                group.unsupported = Some("a rule with a composite head".into());
                return;
            };
            let path = format!("{}.{name}", package.join("."));
            let group = self.groups.entry(path).or_insert(Group {
                kind,
                definitions: Vec::new(),
                defaults: Vec::new(),
                unsupported: None,
            });
            if group.kind.is_none() {
                group.kind = kind;
            }
            if kind.is_some() && group.kind != kind {
                group.unsupported = Some("definitions of different kinds".into());
            }
            if default {
                group.defaults.push((module, rule));
            } else {
                group.definitions.push((module, rule));
            }
        };
        let head_name = |refr: &Json| -> Lowered<String> {
            match variant(refr)? {
                ("Var", v) => var_name(v),
                _ => unsupported("composite head"),
            }
        };
        match variant(rule) {
            Ok(("Spec", spec)) => {
                let Ok(head) = field(spec, "head").and_then(variant) else {
                    return record(unsupported("no head"), None, false);
                };
                match head {
                    ("Compr", h) => {
                        let name = field(h, "refr").and_then(head_name);
                        record(name, Some(GroupKind::Complete), false)
                    }
                    ("Set", h) => {
                        let name = field(h, "refr").and_then(head_name);
                        record(name, Some(GroupKind::PartialSet), false)
                    }
                    ("Func", h) => {
                        let name = field(h, "refr").and_then(|r| dotted(r).map(|p| p.join(".")));
                        let arity = h.get("args").and_then(Json::as_array).map_or(0, Vec::len);
                        record(name, Some(GroupKind::Function(arity)), false)
                    }
                    _ => record(unsupported("unknown head"), None, false),
                }
            }
            Ok(("Default", d)) => {
                let name = field(d, "refr").and_then(head_name);
                let is_function = d
                    .get("args")
                    .and_then(Json::as_array)
                    .is_some_and(|a| !a.is_empty());
                if is_function {
                    record(unsupported("a default function"), None, false)
                } else {
                    record(name, None, true)
                }
            }
            _ => record(unsupported("unknown rule"), None, false),
        }
    }

    /// The rule at `path` (e.g. `data.org.rules.key_max_age.deny`), compiled.
    pub(super) fn rule(&mut self, path: &str) -> Lowered<RuleId> {
        match self.rule_memo.get(path) {
            Some(Memo::Done(done)) => return done.clone(),
            Some(Memo::InProgress) => return unsupported(format!("{path} refers to itself")),
            None => {}
        }
        self.rule_memo.insert(path.to_string(), Memo::InProgress);
        let lowered = self.lower_rule(path);
        self.rule_memo
            .insert(path.to_string(), Memo::Done(lowered.clone()));
        lowered
    }

    fn group(&self, path: &str) -> Lowered<&Group<'a>> {
        let Some(group) = self.groups.get(path) else {
            return unsupported(format!("no rule {path}"));
        };
        let package = path.rsplit_once('.').map_or("", |(p, _)| p);
        if let Some(g) = self.groups.get(&format!("{package}.*")) {
            if let Some(why) = &g.unsupported {
                return unsupported(why.clone());
            }
        }
        if let Some(why) = &group.unsupported {
            return unsupported(why.clone());
        }
        Ok(group)
    }

    fn lower_rule(&mut self, path: &str) -> Lowered<RuleId> {
        let group = self.group(path)?;
        let mut in_data = self.data;
        for key in path.split('.').skip(1) {
            in_data = &in_data[&Value::from(key)];
        }
        if *in_data != Value::Undefined {
            return unsupported(format!("{path} is also in the data document"));
        }
        let kind = match group.kind {
            Some(GroupKind::Complete) | None => RuleKind::Complete,
            Some(GroupKind::PartialSet) => RuleKind::PartialSet,
            Some(GroupKind::Function(_)) => return unsupported(format!("{path} is a function")),
        };
        let definitions: Vec<(usize, &Json)> = group.definitions.clone();
        let defaults: Vec<(usize, &Json)> = group.defaults.clone();
        let default = match defaults.as_slice() {
            [] => None,
            [(module, d)] => {
                let d = field(d, "Default")?;
                if field(d, "op")?.as_str() != Some("ColEq")
                    && field(d, "op")?.as_str() != Some("Eq")
                {
                    return unsupported("default with an unknown operator");
                }
                let mut scope = Scope::default();
                scope.push();
                match self.expr(*module, &mut scope, field(d, "value")?)? {
                    Expr::Const(v) => Some(v),
                    _ => return unsupported("a default that is not a constant"),
                }
            }
            _ => return unsupported("several defaults"),
        };
        let mut lowered = Vec::new();
        for (module, rule) in definitions {
            let spec = field(rule, "Spec")?;
            let (head_kind, head) = variant(field(spec, "head")?)?;
            let head_value = match head_kind {
                "Compr" => head.get("assign").filter(|a| !a.is_null()),
                "Set" => match head.get("key") {
                    Some(k) if !k.is_null() => Some(k),
                    _ => return unsupported("a set rule without a member"),
                },
                _ => return unsupported("unexpected head"),
            };
            let value = match (head_kind, head_value) {
                ("Compr", Some(assign)) => Some(Self::assign_value(assign)?),
                ("Set", Some(key)) => Some(key),
                _ => None,
            };
            lowered.push(self.definition(module, spec, &[], value)?);
        }
        let id = self.rules.len();
        self.rules.push(Rule {
            path: path.to_string(),
            kind,
            definitions: lowered,
            default,
        });
        Ok(id)
    }

    fn assign_value(assign: &Json) -> Lowered<&Json> {
        match field(assign, "op")?.as_str() {
            Some("ColEq") | Some("Eq") => field(assign, "value"),
            _ => unsupported("unknown assignment"),
        }
    }

    /// One definition: its bodies (the first, then each `else`) with their values. `head`
    /// is the value of the head, used by the first body (and by an `else` without one).
    fn definition(
        &mut self,
        module: usize,
        spec: &Json,
        params: &[&Json],
        head: Option<&Json>,
    ) -> Lowered<Definition> {
        let mut scope = Scope::default();
        scope.push();
        scope.levels[0].params = true;
        let mut patterns = Vec::with_capacity(params.len());
        for p in params {
            patterns.push(self.pattern(module, &mut scope, p)?);
        }
        let mut chain = Vec::new();
        let bodies = field(spec, "bodies")?
            .as_array()
            .map_or_else(|| unsupported("rule without bodies"), Ok)?;
        for (i, body) in bodies.iter().enumerate() {
            let is_else = field(body, "is_else")?.as_bool() == Some(true);
            if (i > 0) != is_else {
                return unsupported("several bodies that are not an else chain");
            }
            scope.push();
            let value = match body.get("assign").filter(|a| !a.is_null()) {
                Some(assign) if i > 0 => Some(Self::assign_value(assign)?),
                Some(_) => return unsupported("a first body with its own value"),
                None if i > 0 && head.is_some() => {
                    return unsupported("an else without a value");
                }
                None => head,
            };
            let query = self.query(module, &mut scope, field(body, "query")?)?;
            let value = match value {
                Some(v) => Some(self.expr(module, &mut scope, v)?),
                None => None,
            };
            scope.pop();
            chain.push(Body { query, value });
        }
        if chain.is_empty() {
            chain.push(Body {
                query: Query { stmts: Vec::new() },
                value: match head {
                    Some(v) => {
                        scope.push();
                        Some(self.expr(module, &mut scope, v)?)
                    }
                    None => None,
                },
            });
        }
        let mut definition = Definition {
            params: patterns,
            chain,
            slots: scope.next,
        };
        super::once::mark_definition(&mut definition, &mut self.onces);
        Ok(definition)
    }

    /// The function at `path`, compiled.
    fn function(&mut self, path: &str) -> Lowered<FunctionId> {
        match self.function_memo.get(path) {
            Some(Memo::Done(done)) => return done.clone(),
            Some(Memo::InProgress) => return unsupported(format!("{path} calls itself")),
            None => {}
        }
        self.function_memo
            .insert(path.to_string(), Memo::InProgress);
        let lowered = self.lower_function(path);
        self.function_memo
            .insert(path.to_string(), Memo::Done(lowered.clone()));
        lowered
    }

    fn lower_function(&mut self, path: &str) -> Lowered<FunctionId> {
        let group = self.group(path)?;
        let Some(GroupKind::Function(arity)) = group.kind else {
            return unsupported(format!("{path} is not a function"));
        };
        if !group.defaults.is_empty() {
            return unsupported("a default function");
        }
        let definitions: Vec<(usize, &Json)> = group.definitions.clone();
        let mut lowered = Vec::new();
        for (module, rule) in definitions {
            let spec = field(rule, "Spec")?;
            let head = field(field(spec, "head")?, "Func")?;
            let params: Vec<&Json> = field(head, "args")?
                .as_array()
                .into_iter()
                .flatten()
                .collect();
            if params.len() != arity {
                return unsupported("definitions with different numbers of parameters");
            }
            let value = match head.get("assign").filter(|a| !a.is_null()) {
                Some(assign) => Some(Self::assign_value(assign)?),
                None => None,
            };
            lowered.push(self.definition(module, spec, &params, value)?);
        }
        let id = self.functions.len();
        self.functions.push(UserFunction {
            path: path.to_string(),
            definitions: lowered,
        });
        Ok(id)
    }

    fn query(&mut self, module: usize, scope: &mut Scope, query: &Json) -> Lowered<Query> {
        let stmts = field(query, "stmts")?
            .as_array()
            .map_or_else(|| unsupported("query without statements"), Ok)?;
        let order = schedule::order(stmts)?;
        let mut lowered = Vec::with_capacity(stmts.len());
        for i in order {
            lowered.push(self.stmt(module, scope, &stmts[i])?);
        }
        Ok(Query { stmts: lowered })
    }

    fn stmt(&mut self, module: usize, scope: &mut Scope, stmt: &Json) -> Lowered<Stmt> {
        if stmt
            .get("with_mods")
            .and_then(Json::as_array)
            .is_some_and(|w| !w.is_empty())
        {
            return unsupported("a `with` modifier");
        }
        match variant(field(stmt, "literal")?)? {
            ("Expr", e) => {
                let expr = field(e, "expr")?;
                if let ("AssignExpr", a) = variant(expr)? {
                    return self.assign(module, scope, a);
                }
                Ok(Stmt::Expr(self.expr(module, scope, expr)?))
            }
            ("NotExpr", e) => Ok(Stmt::Not(self.expr(module, scope, field(e, "expr")?)?)),
            ("SomeIn", s) => {
                let collection = self.expr(module, scope, field(s, "collection")?)?;
                let key = match s.get("key").filter(|k| !k.is_null()) {
                    Some(k) => Some(self.some_pattern(module, scope, k)?),
                    None => None,
                };
                let value = self.some_pattern(module, scope, field(s, "value")?)?;
                Ok(Stmt::SomeIn {
                    key,
                    value,
                    collection,
                })
            }
            ("Every", e) => {
                let domain = self.expr(module, scope, field(e, "domain")?)?;
                let contents = self.modules[module].contents;
                scope.push();
                scope.levels.last_mut().expect("pushed").every = true;
                let line = line_of(stmt);
                let key = match e.get("key").filter(|k| !k.is_null()) {
                    Some(span) => {
                        let name = span_text(contents, span)?;
                        self.check_local_name(module, name)?;
                        Some(scope.declare(name, line))
                    }
                    None => None,
                };
                let name = span_text(contents, field(e, "value")?)?;
                self.check_local_name(module, name)?;
                let value = scope.declare(name, line);
                let query = self.query(module, scope, field(e, "query")?);
                scope.pop();
                Ok(Stmt::Every {
                    key,
                    value,
                    domain,
                    query: query?,
                })
            }
            (other, _) => unsupported(format!("a `{other}` statement")),
        }
    }

    /// A variable named like a rule of its package or an import: the interpreter's analysis
    /// treats it as the global, so it is not compiled.
    fn check_local_name(&self, module: usize, name: &str) -> Lowered<()> {
        let m = &self.modules[module];
        let rule = format!("{}.{name}", m.package.join("."));
        if m.aliases.contains(name) || self.groups.contains_key(&rule) {
            return unsupported(format!("a variable named like the global `{name}`"));
        }
        Ok(())
    }

    /// A pattern that binds its variables afresh (`:=`, a parameter): variables, `_`,
    /// literals and arrays of them.
    fn pattern(&mut self, module: usize, scope: &mut Scope, p: &Json) -> Lowered<Pattern> {
        Ok(match variant(p)? {
            ("Var", v) => {
                let name = var_name(v)?;
                if name == "_" {
                    return Ok(Pattern::Ignore);
                }
                if scope
                    .levels
                    .last()
                    .is_some_and(|l| l.vars.contains_key(&name))
                {
                    return unsupported(format!("`{name}` bound twice in one pattern or query"));
                }
                self.check_local_name(module, &name)?;
                Pattern::Bind(scope.declare(&name, line_of(v)))
            }
            ("String" | "RawString", s) => Pattern::Equal(Value::from(string_value(s)?)),
            ("Number" | "Bool" | "Null", _) => match self.expr(module, scope, p)? {
                Expr::Const(v) => Pattern::Equal(v),
                _ => return unsupported("a literal pattern"),
            },
            ("Array", a) => {
                let mut items = Vec::new();
                for item in field(a, "items")?.as_array().into_iter().flatten() {
                    items.push(self.pattern(module, scope, item)?);
                }
                Pattern::Array(items)
            }
            _ => return unsupported("a pattern other than variables, literals and arrays"),
        })
    }

    /// A pattern of `some … in`: the interpreter compares a variable bound in an enclosing
    /// scope instead of binding it, so such a pattern is not compiled.
    fn some_pattern(&mut self, module: usize, scope: &mut Scope, p: &Json) -> Lowered<Pattern> {
        let mut names = std::collections::BTreeSet::new();
        schedule::pattern_vars(p, &mut names);
        if names.iter().any(|n| scope.is_declared(n)) {
            return unsupported("`some` over a variable already bound");
        }
        self.pattern(module, scope, p)
    }

    fn assign(&mut self, module: usize, scope: &mut Scope, a: &Json) -> Lowered<Stmt> {
        let lhs = field(a, "lhs")?;
        let rhs = field(a, "rhs")?;
        match field(a, "op")?.as_str() {
            Some("ColEq") => {
                if let (("Array", _), ("Array", _)) = (variant(lhs)?, variant(rhs)?) {
                    return unsupported("`:=` between two array literals");
                }
                let value = self.expr(module, scope, rhs)?;
                let pattern = self.pattern(module, scope, lhs)?;
                if let Pattern::Ignore | Pattern::Equal(_) = pattern {
                    return unsupported("`:=` to a literal or `_`");
                }
                Ok(Stmt::Bind(pattern, value))
            }
            // `a = b` with both sides known compares them; one that would bind is left to
            // the interpreter.
            Some("Eq") if scope.inside_every() => {
                unsupported("`=` in an `every` body (the interpreter binds its variables anew)")
            }
            Some("Eq") => {
                let lhs = self.expr(module, scope, lhs)?;
                let rhs = self.expr(module, scope, rhs)?;
                Ok(Stmt::Expr(Expr::Compare(
                    Compare::Eq,
                    Box::new(lhs),
                    Box::new(rhs),
                )))
            }
            _ => unsupported("unknown assignment"),
        }
    }

    fn exprs(&mut self, module: usize, scope: &mut Scope, items: &Json) -> Lowered<Vec<Expr>> {
        items
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| self.expr(module, scope, e))
            .collect()
    }

    fn boxed(&mut self, module: usize, scope: &mut Scope, e: &Json) -> Lowered<Box<Expr>> {
        self.expr(module, scope, e).map(Box::new)
    }

    fn expr(&mut self, module: usize, scope: &mut Scope, expr: &Json) -> Lowered<Expr> {
        let (kind, e) = variant(expr)?;
        Ok(match kind {
            "String" | "RawString" => Expr::Const(Value::from(string_value(e)?)),
            "Number" | "Bool" | "Null" => {
                let v = field(e, "value")?;
                if v.is_number() && v.as_i64().is_none() && v.as_u64().is_none() {
                    return unsupported("a number that is not an integer");
                }
                match v.scalar() {
                    Some(v) => Expr::Const(v),
                    None => return unsupported("a literal that is not a scalar"),
                }
            }
            "Var" | "RefDot" | "RefBrack" => self.reference(module, scope, expr)?,
            "Array" => Expr::Array(self.exprs(module, scope, field(e, "items")?)?),
            "Set" => Expr::Set(self.exprs(module, scope, field(e, "items")?)?),
            "Object" => {
                let mut fields = Vec::new();
                for f in field(e, "fields")?.as_array().into_iter().flatten() {
                    let (Some(k), Some(v)) = (f.get(1), f.get(2)) else {
                        return unsupported("object field");
                    };
                    fields.push((self.expr(module, scope, k)?, self.expr(module, scope, v)?));
                }
                template(fields)
            }
            "ArrayCompr" | "SetCompr" => {
                scope.push();
                let lowered = self
                    .query(module, scope, field(e, "query")?)
                    .and_then(|q| Ok((q, self.boxed(module, scope, field(e, "term")?)?)));
                scope.pop();
                let (query, term) = lowered?;
                if kind == "ArrayCompr" {
                    Expr::ArrayCompr(Box::new(query), term)
                } else {
                    Expr::SetCompr(Box::new(query), term)
                }
            }
            "ObjectCompr" => {
                scope.push();
                let lowered = self.query(module, scope, field(e, "query")?).and_then(|q| {
                    let k = self.boxed(module, scope, field(e, "key")?)?;
                    let v = self.boxed(module, scope, field(e, "value")?)?;
                    Ok((q, k, v))
                });
                scope.pop();
                let (query, key, value) = lowered?;
                Expr::ObjectCompr(Box::new(query), key, value)
            }
            "Call" => self.call(module, scope, e)?,
            "UnaryExpr" => {
                // Only `- <number literal>` evaluates; `-x` is an error in the interpreter.
                let operand = field(e, "expr")?;
                match variant(operand)? {
                    ("Number", n) => {
                        let text = span_text(self.modules[module].contents, field(n, "span")?)?;
                        match field(n, "value")?.scalar().unwrap_or(Value::Undefined) {
                            Value::Number(x) if !text.starts_with('-') => {
                                let zero = regorus::Value::from(0u64);
                                let Value::Number(zero) = zero else {
                                    unreachable!("zero is a number")
                                };
                                match zero.sub(&x) {
                                    Ok(n) => Expr::Const(Value::Number(n)),
                                    Err(_) => return unsupported("a negation that fails"),
                                }
                            }
                            _ => return unsupported("a negation"),
                        }
                    }
                    _ => return unsupported("a negation of a value that is not a literal"),
                }
            }
            "BinExpr" => {
                let op = match field(e, "op")?.as_str() {
                    Some("Union") => SetOp::Union,
                    Some("Intersection") => SetOp::Intersection,
                    _ => return unsupported("unknown set operator"),
                };
                let lhs = self.boxed(module, scope, field(e, "lhs")?)?;
                Expr::SetOp(op, lhs, self.boxed(module, scope, field(e, "rhs")?)?)
            }
            "BoolExpr" => {
                let op = match field(e, "op")?.as_str() {
                    Some("Lt") => Compare::Lt,
                    Some("Le") => Compare::Le,
                    Some("Eq") => Compare::Eq,
                    Some("Ge") => Compare::Ge,
                    Some("Gt") => Compare::Gt,
                    Some("Ne") => Compare::Ne,
                    _ => return unsupported("unknown comparison"),
                };
                let lhs = self.boxed(module, scope, field(e, "lhs")?)?;
                Expr::Compare(op, lhs, self.boxed(module, scope, field(e, "rhs")?)?)
            }
            "ArithExpr" => {
                let op = match field(e, "op")?.as_str() {
                    Some("Add") => Arith::Add,
                    Some("Sub") => Arith::Sub,
                    Some("Mul") => Arith::Mul,
                    Some("Div") => Arith::Div,
                    Some("Mod") => Arith::Mod,
                    _ => return unsupported("unknown arithmetic"),
                };
                let lhs = self.boxed(module, scope, field(e, "lhs")?)?;
                Expr::Arith(op, lhs, self.boxed(module, scope, field(e, "rhs")?)?)
            }
            "Membership" => {
                let key = match e.get("key").filter(|k| !k.is_null()) {
                    Some(k) => Some(self.boxed(module, scope, k)?),
                    None => None,
                };
                let value = self.boxed(module, scope, field(e, "value")?)?;
                let collection = self.boxed(module, scope, field(e, "collection")?)?;
                Expr::Membership(key, value, collection)
            }
            other => return unsupported(format!("a `{other}` expression")),
        })
    }

    /// A variable or a reference (`a.b[c]`).
    fn reference(&mut self, module: usize, scope: &mut Scope, expr: &Json) -> Lowered<Expr> {
        let mut accesses = Vec::new();
        let mut root = expr;
        loop {
            match variant(root)? {
                ("RefDot", v) => {
                    accesses.push(Access::Field(dot_field(v)?));
                    root = field(v, "refr")?;
                }
                ("RefBrack", v) => {
                    accesses.push(Access::Index(field(v, "index")?));
                    root = field(v, "refr")?;
                }
                ("Var", _) => break,
                _ => {
                    // `f(x).y`, `[1, 2][0]`: the root is any expression.
                    let base = self.expr(module, scope, root)?;
                    accesses.reverse();
                    return self.apply(module, scope, base, &accesses);
                }
            }
        }
        accesses.reverse();
        let (_, var) = variant(root)?;
        let name = var_name(var)?;
        if name == "data"
            && accesses
                .iter()
                .any(|a| matches!(a, Access::Index(e) if !matches!(variant(e), Ok(("String" | "RawString", _)))))
        {
            return unsupported("`data` indexed by a computed key");
        }
        if let Some(slot) = scope.lookup(&name, line_of(var))? {
            return self.apply(module, scope, Expr::Local(slot), &accesses);
        }
        self.global(module, scope, &name, &accesses)
    }

    fn apply(
        &mut self,
        module: usize,
        scope: &mut Scope,
        mut base: Expr,
        accesses: &[Access<'_>],
    ) -> Lowered<Expr> {
        for access in accesses {
            let key = match access {
                Access::Field(f) => {
                    base = Expr::Field(Box::new(base), Value::from(f.as_str()), self.fields);
                    self.fields += 1;
                    continue;
                }
                Access::Index(e) => match self.expr(module, scope, e)? {
                    Expr::Local(slot) if scope.in_every(slot) => {
                        return unsupported("an index by an `every` variable");
                    }
                    key => key,
                },
            };
            base = Expr::Index(Box::new(base), Box::new(key));
        }
        Ok(base)
    }

    /// A name that is not a local variable: a rule of this package, an import, `input` or
    /// `data`.
    fn global(
        &mut self,
        module: usize,
        scope: &mut Scope,
        name: &str,
        accesses: &[Access<'_>],
    ) -> Lowered<Expr> {
        let package = self.modules[module].package.join(".");
        let own = format!("{package}.{name}");
        if self.groups.contains_key(&own) {
            let id = self.rule(&own)?;
            return self.apply(module, scope, Expr::Rule(id), accesses);
        }
        if let Some(path) = self.modules[module].imports.get(name).cloned() {
            return self.path(module, scope, &path, accesses);
        }
        match name {
            "input" => self.apply(module, scope, Expr::Input, accesses),
            "data" => self.path(module, scope, &["data".to_string()], accesses),
            _ => unsupported(format!("the name `{name}`")),
        }
    }

    /// A reference that starts with `path` (`data…` or `input…`) followed by `accesses`.
    fn path(
        &mut self,
        module: usize,
        scope: &mut Scope,
        path: &[String],
        accesses: &[Access<'_>],
    ) -> Lowered<Expr> {
        if path.first().map(String::as_str) == Some("input") {
            let rest: Vec<Access<'_>> = path[1..]
                .iter()
                .map(|p| Access::Field(p.clone()))
                .chain(accesses.iter().cloned())
                .collect();
            return self.apply(module, scope, Expr::Input, &rest);
        }
        if path.first().map(String::as_str) != Some("data") {
            return unsupported("an import of neither data nor input");
        }
        // The constant part of the reference: the path, then fields and string indexes.
        let mut constant = path.to_vec();
        let mut used = 0;
        for access in accesses {
            match access {
                Access::Field(f) => constant.push(f.clone()),
                Access::Index(e) => match variant(e)? {
                    ("String" | "RawString", s) => constant.push(string_value(s)?),
                    _ => break,
                },
            }
            used += 1;
        }
        for i in 2..=constant.len() {
            let prefix = constant[..i].join(".");
            if self.groups.contains_key(&prefix) {
                let id = self.rule(&prefix)?;
                let rest: Vec<Access<'_>> = constant[i..]
                    .iter()
                    .map(|p| Access::Field(p.clone()))
                    .chain(accesses[used..].iter().cloned())
                    .collect();
                return self.apply(module, scope, Expr::Rule(id), &rest);
            }
        }
        let whole = constant.join(".");
        if self.touches_absent(&whole) {
            return unsupported(format!("`{whole}` reaches a package not compiled here"));
        }
        let under_a_package = self.packages.contains(&whole)
            || self
                .groups
                .keys()
                .any(|g| g.starts_with(&whole) && g[whole.len()..].starts_with('.'));
        if under_a_package {
            return unsupported(format!("`{whole}` as a whole"));
        }
        let data_path = constant[1..]
            .iter()
            .map(|p| Value::from(p.as_str()))
            .collect();
        self.apply(module, scope, Expr::Data(data_path), &accesses[used..])
    }

    /// Whether `path` is, holds or lies in a package of the policy set not loaded here.
    fn touches_absent(&self, path: &str) -> bool {
        self.absent.iter().any(|p| {
            p == path
                || path
                    .strip_prefix(p.as_str())
                    .is_some_and(|r| r.starts_with('.'))
                || p.strip_prefix(path).is_some_and(|r| r.starts_with('.'))
        })
    }

    fn call(&mut self, module: usize, scope: &mut Scope, call: &Json) -> Lowered<Expr> {
        let spelled = dotted(field(call, "fcn")?)?;
        let args = self.exprs(module, scope, field(call, "params")?)?;
        let callee = self.callee(module, &spelled, args.len())?;
        let library_field = matches!(callee, Callee::Library(..))
            && self
                .library
                .and_then(|l| l.names.get(&spelled.join(".")))
                .is_some_and(|name| name == "field");
        // `lib.field(x, "name", fallback)`: a field read, remembered as `x.name` is.
        let args = match <[Expr; 3]>::try_from(args) {
            Ok([base, Expr::Const(name @ Value::String(_)), fallback]) if library_field => {
                self.fields += 1;
                let place = self.fields - 1;
                return Ok(Expr::FieldOr(
                    Box::new(base),
                    name,
                    Box::new(fallback),
                    place,
                ));
            }
            Ok(three) => Vec::from(three),
            Err(args) => args,
        };
        Ok(Expr::Call(callee, args))
    }

    /// What a call to `spelled` runs: a function of the policies, the library's native code,
    /// or a builtin — in the order the interpreter looks them up.
    fn callee(&mut self, module: usize, spelled: &[String], nargs: usize) -> Lowered<Callee> {
        let m = &self.modules[module];
        // The paths the interpreter looks a function of the policies up by: through an
        // import alias, then as written (`data.…`) or in the caller's package.
        let mut candidates = Vec::new();
        if let Some(import) = m.imports.get(&spelled[0]) {
            candidates.push(
                import
                    .iter()
                    .chain(&spelled[1..])
                    .cloned()
                    .collect::<Vec<_>>(),
            );
        }
        if spelled[0] == "data" {
            candidates.push(spelled.to_vec());
        } else {
            candidates.push(m.package.iter().chain(spelled).cloned().collect());
        }
        for full in candidates {
            let full_path = full.join(".");
            if self.touches_absent(&full_path) {
                return unsupported(format!("a call into `{full_path}`, not compiled here"));
            }
            if let Some(group) = self.groups.get(&full_path) {
                return match group.kind {
                    Some(GroupKind::Function(arity)) if arity == nargs => {
                        Ok(Callee::Function(self.function(&full_path)?))
                    }
                    _ => unsupported(format!("a call of {full_path}")),
                };
            }
        }
        let spelled_path = spelled.join(".");
        if let Some(library) = self.library {
            if let Some(name) = library.names.get(&spelled_path) {
                return match library::function(name) {
                    Some((arity, body)) if arity == nargs => {
                        let made = match name.as_str() {
                            "manual" => Some(Made::Manual {
                                action: Value::from("action"),
                                params: Value::from("params"),
                                task: Value::from("task"),
                                manual: Value::from("manual"),
                            }),
                            "user_resource" => {
                                Some(Made::UserResource(["arn", "id", "type"].map(Value::from)))
                            }
                            "key_resource" => Some(Made::KeyResource(
                                ["arn", "id", "type", "user"].map(Value::from),
                            )),
                            "key_remediation" => Some(Made::KeyRemediation {
                                outer: ["action", "params"].map(Value::from),
                                params: [
                                    "access_key_id",
                                    "break_glass",
                                    "intended_action",
                                    "user_name",
                                ]
                                .map(Value::from),
                                manual: Value::from("manual"),
                            }),
                            _ => None,
                        };
                        Ok(Callee::Library(body, made))
                    }
                    _ => unsupported(format!("a call of {spelled_path}")),
                };
            }
        }
        match builtins::lookup(&spelled_path, nargs) {
            Some(builtin) => Ok(Callee::Builtin(builtin)),
            None => unsupported(format!("the function {spelled_path}")),
        }
    }
}
