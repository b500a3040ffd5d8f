//! regorus's syntax tree made into a [`Tree`] node by node, as its `Serialize` would make it.
//!
//! Through serde, every node of the tree goes through serde's `flatten` machinery (regorus
//! wraps each node in a flattened reference), which buffers each node's fields before writing
//! them: three quarters of the time it took to read twenty custom rules. Walking the tree's
//! types (`regorus::unstable`) makes the same tree directly. The test compares both forms on
//! every policy of the repository, so a regorus whose tree changed shape fails there rather
//! than compile rules differently.

use regorus::unstable::{
    ArithOp, AssignOp, BinOp, BoolOp, Expr, Import, Literal, LiteralStmt, Module, Package, Query,
    Rule, RuleAssign, RuleBody, RuleHead, WithModifier,
};
use regorus::Value;

use super::tree::{Keys, Tree};

/// The trees of `modules`, as `serde` writes `engine.get_modules()`.
pub(super) fn modules(modules: &[regorus::unstable::Ref<Module>], keys: &mut Keys) -> Vec<Tree> {
    let mut walk = Walk { keys };
    modules.iter().map(|m| walk.module(m)).collect()
}

struct Walk<'k> {
    keys: &'k mut Keys,
}

/// A number of the tree's own (an index, a count).
fn number(n: u32) -> Tree {
    Tree::Number(n.into())
}

impl Walk<'_> {
    fn object(&mut self, members: Vec<(&'static str, Tree)>) -> Tree {
        Tree::Object(
            members
                .into_iter()
                .map(|(name, value)| (self.keys.key(name), value))
                .collect(),
        )
    }

    /// `{"Variant": {fields}}`.
    fn variant(&mut self, name: &'static str, fields: Vec<(&'static str, Tree)>) -> Tree {
        let fields = self.object(fields);
        Tree::Object(vec![(self.keys.key(name), fields)])
    }

    fn span(&mut self, span: &regorus::unstable::Span) -> Tree {
        self.object(vec![
            ("line", number(span.line)),
            ("col", number(span.col)),
            ("start", number(span.start)),
            ("end", number(span.end)),
        ])
    }

    /// A value of the tree (a literal's, a name's), through its own `Serialize`.
    fn value(&mut self, value: &Value) -> Tree {
        super::tree::to_tree(value, self.keys).unwrap_or(Tree::Null)
    }

    fn exprs(&mut self, items: &[regorus::unstable::Ref<Expr>]) -> Tree {
        Tree::Array(items.iter().map(|e| self.expr(e)).collect())
    }

    fn optional_expr(&mut self, e: Option<&regorus::unstable::Ref<Expr>>) -> Tree {
        e.map_or(Tree::Null, |e| self.expr(e))
    }

    fn module(&mut self, module: &Module) -> Tree {
        let mut members = vec![
            ("package", self.package(&module.package)),
            (
                "imports",
                Tree::Array(module.imports.iter().map(|i| self.import(i)).collect()),
            ),
            (
                "rules",
                Tree::Array(module.policy.iter().map(|r| self.rule(r)).collect()),
            ),
            ("rego_v1", Tree::Bool(module.rego_v1)),
        ];
        if let Some(target) = &module.target {
            members.push(("target", Tree::String(target.as_str().into())));
        }
        members.extend([
            ("num_expressions", number(module.num_expressions)),
            ("num_statements", number(module.num_statements)),
            ("num_queries", number(module.num_queries)),
        ]);
        self.object(members)
    }

    fn package(&mut self, package: &Package) -> Tree {
        let members = vec![
            ("span", self.span(&package.span)),
            ("refr", self.expr(&package.refr)),
        ];
        self.object(members)
    }

    fn import(&mut self, import: &Import) -> Tree {
        let mut members = vec![
            ("span", self.span(&import.span)),
            ("refr", self.expr(&import.refr)),
        ];
        if let Some(alias) = &import.r#as {
            members.push(("as", self.span(alias)));
        }
        self.object(members)
    }

    fn rule(&mut self, rule: &Rule) -> Tree {
        match rule {
            Rule::Spec { span, head, bodies } => {
                let fields = vec![
                    ("span", self.span(span)),
                    ("head", self.head(head)),
                    (
                        "bodies",
                        Tree::Array(bodies.iter().map(|b| self.body(b)).collect()),
                    ),
                ];
                self.variant("Spec", fields)
            }
            Rule::Default {
                span,
                refr,
                args,
                op,
                value,
            } => {
                let fields = vec![
                    ("span", self.span(span)),
                    ("refr", self.expr(refr)),
                    ("args", self.exprs(args)),
                    ("op", assign_op(op)),
                    ("value", self.expr(value)),
                ];
                self.variant("Default", fields)
            }
        }
    }

    fn head(&mut self, head: &RuleHead) -> Tree {
        match head {
            RuleHead::Compr { span, refr, assign } => {
                let fields = vec![
                    ("span", self.span(span)),
                    ("refr", self.expr(refr)),
                    ("assign", self.assign(assign.as_ref())),
                ];
                self.variant("Compr", fields)
            }
            RuleHead::Set { span, refr, key } => {
                let fields = vec![
                    ("span", self.span(span)),
                    ("refr", self.expr(refr)),
                    ("key", self.optional_expr(key.as_ref())),
                ];
                self.variant("Set", fields)
            }
            RuleHead::Func {
                span,
                refr,
                args,
                assign,
            } => {
                let fields = vec![
                    ("span", self.span(span)),
                    ("refr", self.expr(refr)),
                    ("args", self.exprs(args)),
                    ("assign", self.assign(assign.as_ref())),
                ];
                self.variant("Func", fields)
            }
        }
    }

    fn assign(&mut self, assign: Option<&RuleAssign>) -> Tree {
        let Some(assign) = assign else {
            return Tree::Null;
        };
        let members = vec![
            ("span", self.span(&assign.span)),
            ("op", assign_op(&assign.op)),
            ("value", self.expr(&assign.value)),
        ];
        self.object(members)
    }

    fn body(&mut self, body: &RuleBody) -> Tree {
        let members = vec![
            ("span", self.span(&body.span)),
            ("assign", self.assign(body.assign.as_ref())),
            ("is_else", Tree::Bool(body.is_else)),
            ("query", self.query(&body.query)),
        ];
        self.object(members)
    }

    fn query(&mut self, query: &Query) -> Tree {
        let members = vec![
            ("span", self.span(&query.span)),
            (
                "stmts",
                Tree::Array(query.stmts.iter().map(|s| self.stmt(s)).collect()),
            ),
            ("qidx", number(query.qidx)),
        ];
        self.object(members)
    }

    fn stmt(&mut self, stmt: &LiteralStmt) -> Tree {
        let mut members = vec![
            ("span", self.span(&stmt.span)),
            ("literal", self.literal(&stmt.literal)),
        ];
        if !stmt.with_mods.is_empty() {
            let mods = stmt
                .with_mods
                .iter()
                .map(|m| self.with_modifier(m))
                .collect();
            members.push(("with_mods", Tree::Array(mods)));
        }
        members.push(("sidx", number(stmt.sidx)));
        self.object(members)
    }

    fn with_modifier(&mut self, modifier: &WithModifier) -> Tree {
        let members = vec![
            ("span", self.span(&modifier.span)),
            ("refr", self.expr(&modifier.refr)),
            ("as", self.expr(&modifier.r#as)),
        ];
        self.object(members)
    }

    fn literal(&mut self, literal: &Literal) -> Tree {
        match literal {
            Literal::SomeVars { span, vars } => {
                let fields = vec![
                    ("span", self.span(span)),
                    (
                        "vars",
                        Tree::Array(vars.iter().map(|v| self.span(v)).collect()),
                    ),
                ];
                self.variant("SomeVars", fields)
            }
            Literal::SomeIn {
                span,
                key,
                value,
                collection,
            } => {
                let fields = vec![
                    ("span", self.span(span)),
                    ("key", self.optional_expr(key.as_ref())),
                    ("value", self.expr(value)),
                    ("collection", self.expr(collection)),
                ];
                self.variant("SomeIn", fields)
            }
            Literal::Expr { span, expr } => {
                let fields = vec![("span", self.span(span)), ("expr", self.expr(expr))];
                self.variant("Expr", fields)
            }
            Literal::NotExpr { span, expr } => {
                let fields = vec![("span", self.span(span)), ("expr", self.expr(expr))];
                self.variant("NotExpr", fields)
            }
            Literal::Every {
                span,
                key,
                value,
                domain,
                query,
            } => {
                let key = key.as_ref().map_or(Tree::Null, |k| self.span(k));
                let fields = vec![
                    ("span", self.span(span)),
                    ("key", key),
                    ("value", self.span(value)),
                    ("domain", self.expr(domain)),
                    ("query", self.query(query)),
                ];
                self.variant("Every", fields)
            }
        }
    }

    fn expr(&mut self, expr: &Expr) -> Tree {
        let (name, fields) = match expr {
            Expr::String { span, value, eidx } => ("String", self.leaf(span, value, *eidx)),
            Expr::RawString { span, value, eidx } => ("RawString", self.leaf(span, value, *eidx)),
            Expr::Number { span, value, eidx } => ("Number", self.leaf(span, value, *eidx)),
            Expr::Bool { span, value, eidx } => ("Bool", self.leaf(span, value, *eidx)),
            Expr::Null { span, value, eidx } => ("Null", self.leaf(span, value, *eidx)),
            Expr::Var { span, value, eidx } => ("Var", self.leaf(span, value, *eidx)),
            Expr::Array { span, items, eidx } => (
                "Array",
                vec![
                    ("span", self.span(span)),
                    ("items", self.exprs(items)),
                    ("eidx", number(*eidx)),
                ],
            ),
            Expr::Set { span, items, eidx } => (
                "Set",
                vec![
                    ("span", self.span(span)),
                    ("items", self.exprs(items)),
                    ("eidx", number(*eidx)),
                ],
            ),
            Expr::Object { span, fields, eidx } => {
                let fields = fields
                    .iter()
                    .map(|(span, key, value)| {
                        Tree::Array(vec![self.span(span), self.expr(key), self.expr(value)])
                    })
                    .collect();
                (
                    "Object",
                    vec![
                        ("span", self.span(span)),
                        ("fields", Tree::Array(fields)),
                        ("eidx", number(*eidx)),
                    ],
                )
            }
            Expr::ArrayCompr {
                span,
                term,
                query,
                eidx,
            } => ("ArrayCompr", self.comprehension(span, term, query, *eidx)),
            Expr::SetCompr {
                span,
                term,
                query,
                eidx,
            } => ("SetCompr", self.comprehension(span, term, query, *eidx)),
            Expr::ObjectCompr {
                span,
                key,
                value,
                query,
                eidx,
            } => (
                "ObjectCompr",
                vec![
                    ("span", self.span(span)),
                    ("key", self.expr(key)),
                    ("value", self.expr(value)),
                    ("query", self.query(query)),
                    ("eidx", number(*eidx)),
                ],
            ),
            Expr::Call {
                span,
                fcn,
                params,
                eidx,
            } => (
                "Call",
                vec![
                    ("span", self.span(span)),
                    ("fcn", self.expr(fcn)),
                    ("params", self.exprs(params)),
                    ("eidx", number(*eidx)),
                ],
            ),
            Expr::UnaryExpr { span, expr, eidx } => (
                "UnaryExpr",
                vec![
                    ("span", self.span(span)),
                    ("expr", self.expr(expr)),
                    ("eidx", number(*eidx)),
                ],
            ),
            Expr::RefDot {
                span,
                refr,
                field,
                eidx,
            } => {
                let field = Tree::Array(vec![self.span(&field.0), self.value(&field.1)]);
                (
                    "RefDot",
                    vec![
                        ("span", self.span(span)),
                        ("refr", self.expr(refr)),
                        ("field", field),
                        ("eidx", number(*eidx)),
                    ],
                )
            }
            Expr::RefBrack {
                span,
                refr,
                index,
                eidx,
            } => (
                "RefBrack",
                vec![
                    ("span", self.span(span)),
                    ("refr", self.expr(refr)),
                    ("index", self.expr(index)),
                    ("eidx", number(*eidx)),
                ],
            ),
            Expr::BinExpr {
                span,
                op,
                lhs,
                rhs,
                eidx,
            } => ("BinExpr", self.infix(span, bin_op(op), lhs, rhs, *eidx)),
            Expr::BoolExpr {
                span,
                op,
                lhs,
                rhs,
                eidx,
            } => ("BoolExpr", self.infix(span, bool_op(op), lhs, rhs, *eidx)),
            Expr::ArithExpr {
                span,
                op,
                lhs,
                rhs,
                eidx,
            } => ("ArithExpr", self.infix(span, arith_op(op), lhs, rhs, *eidx)),
            Expr::AssignExpr {
                span,
                op,
                lhs,
                rhs,
                eidx,
            } => (
                "AssignExpr",
                self.infix(span, assign_op(op), lhs, rhs, *eidx),
            ),
            Expr::Membership {
                span,
                key,
                value,
                collection,
                eidx,
            } => (
                "Membership",
                vec![
                    ("span", self.span(span)),
                    ("key", self.optional_expr(key.as_ref())),
                    ("value", self.expr(value)),
                    ("collection", self.expr(collection)),
                    ("eidx", number(*eidx)),
                ],
            ),
        };
        self.variant(name, fields)
    }

    /// The fields of a literal or a name: `span`, `value`, `eidx`.
    fn leaf(
        &mut self,
        span: &regorus::unstable::Span,
        value: &Value,
        eidx: u32,
    ) -> Vec<(&'static str, Tree)> {
        vec![
            ("span", self.span(span)),
            ("value", self.value(value)),
            ("eidx", number(eidx)),
        ]
    }

    fn comprehension(
        &mut self,
        span: &regorus::unstable::Span,
        term: &Expr,
        query: &Query,
        eidx: u32,
    ) -> Vec<(&'static str, Tree)> {
        vec![
            ("span", self.span(span)),
            ("term", self.expr(term)),
            ("query", self.query(query)),
            ("eidx", number(eidx)),
        ]
    }

    fn infix(
        &mut self,
        span: &regorus::unstable::Span,
        op: Tree,
        lhs: &Expr,
        rhs: &Expr,
        eidx: u32,
    ) -> Vec<(&'static str, Tree)> {
        vec![
            ("span", self.span(span)),
            ("op", op),
            ("lhs", self.expr(lhs)),
            ("rhs", self.expr(rhs)),
            ("eidx", number(eidx)),
        ]
    }
}

/// An operator, as serde writes a unit variant: its name.
fn op(name: &str) -> Tree {
    Tree::String(name.into())
}

fn bin_op(o: &BinOp) -> Tree {
    op(match o {
        BinOp::Intersection => "Intersection",
        BinOp::Union => "Union",
    })
}

fn bool_op(o: &BoolOp) -> Tree {
    op(match o {
        BoolOp::Lt => "Lt",
        BoolOp::Le => "Le",
        BoolOp::Eq => "Eq",
        BoolOp::Ge => "Ge",
        BoolOp::Gt => "Gt",
        BoolOp::Ne => "Ne",
    })
}

fn arith_op(o: &ArithOp) -> Tree {
    op(match o {
        ArithOp::Add => "Add",
        ArithOp::Sub => "Sub",
        ArithOp::Mul => "Mul",
        ArithOp::Div => "Div",
        ArithOp::Mod => "Mod",
    })
}

fn assign_op(o: &AssignOp) -> Tree {
    op(match o {
        AssignOp::Eq => "Eq",
        AssignOp::ColEq => "ColEq",
    })
}
