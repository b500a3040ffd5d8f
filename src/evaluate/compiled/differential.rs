//! Randomly generated policies, evaluated compiled and in the interpreter: whatever compiles
//! and runs must give the interpreter's value, and an interpreter error must be a bail.
//!
//! The generator writes rules from the constructs the compiler covers (loops, assignments,
//! conditions, negation, `every`, comprehensions, functions with `else`, builtins, arithmetic,
//! membership) over inputs of mixed types, so that undefined values, type errors and
//! conflicts happen often.

use std::time::Instant;

use regorus::Value;

use super::{Program, Stop};

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SCALARS: &[&str] = &[
    "0", "1", "2", "-1", "3", "\"x\"", "\"Y\"", "\"\"", "null", "true", "false", "\"a,b\"",
];

fn scalar_json(rng: &mut Rng) -> String {
    let pool = [
        "0",
        "1",
        "2",
        "-3",
        "2.5",
        "\"x\"",
        "\"Y\"",
        "\"\"",
        "null",
        "true",
        "false",
        "\"a,b\"",
        "\"2026-01-02T03:04:05Z\"",
    ];
    pool[rng.below(pool.len())].to_string()
}

fn value_json(rng: &mut Rng, depth: usize) -> String {
    match (depth, rng.below(5)) {
        (0, _) | (_, 0 | 1) => scalar_json(rng),
        (_, 2 | 3) => {
            let n = rng.below(4);
            let items: Vec<String> = (0..n).map(|_| value_json(rng, depth - 1)).collect();
            format!("[{}]", items.join(", "))
        }
        _ => {
            let n = rng.below(3);
            let keys = ["k", "l", "x"];
            let items: Vec<String> = (0..n)
                .map(|i| format!("\"{}\": {}", keys[i], value_json(rng, depth - 1)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

fn input_json(rng: &mut Rng) -> String {
    format!(
        r#"{{"a": {}, "b": {}, "s": {}, "n": {}, "m": {}}}"#,
        value_json(rng, 2),
        value_json(rng, 2),
        scalar_json(rng),
        scalar_json(rng),
        value_json(rng, 3),
    )
}

/// Writes one policy: a few helper rules and functions, then `r`.
struct Writer<'r> {
    rng: &'r mut Rng,
    vars: Vec<String>,
    fresh: usize,
    /// Whether the body being written may call the functions and read the rules `q` and
    /// `c` (not inside the functions: the interpreter does not stop recursion, it overflows).
    calls: bool,
}

impl Writer<'_> {
    fn fresh(&mut self) -> String {
        self.fresh += 1;
        format!("w{}", self.fresh)
    }

    fn collection(&mut self) -> String {
        let base = self.rng.pick(&[
            "input.a",
            "input.b",
            "input.m",
            "input.s",
            "input.b.k",
            "input.m[0]",
            "[1, 2, 3]",
            "{\"p\": 1, \"q\": \"x\"}",
            "{1, \"x\"}",
            "q",
            "input.missing",
        ]);
        let base = if base == "q" && !self.calls {
            "input.a"
        } else {
            base
        };
        if self.rng.below(4) == 0 && !self.vars.is_empty() {
            return self.vars[self.rng.below(self.vars.len())].clone();
        }
        base.to_string()
    }

    fn term(&mut self, depth: usize) -> String {
        if !self.vars.is_empty() && self.rng.below(2) == 0 {
            return self.vars[self.rng.below(self.vars.len())].clone();
        }
        if depth == 0 || self.rng.below(3) == 0 {
            return match self.rng.below(3) {
                0 => self.rng.pick(SCALARS).to_string(),
                1 => self.collection(),
                _ if self.calls => self
                    .rng
                    .pick(&["input.n", "input.s", "input.b.l", "c", "c2"])
                    .to_string(),
                _ => self
                    .rng
                    .pick(&["input.n", "input.s", "input.b.l"])
                    .to_string(),
            };
        }
        let a = self.term(depth - 1);
        let b = self.term(depth - 1);
        match self.rng.below(16) {
            0 => format!("({a} {} {b})", self.rng.pick(&["+", "-", "*", "/", "%"])),
            1 => format!("count({a})"),
            2 => format!("sprintf(\"%v-%s-%d\", [{a}, {b}, {a}])"),
            3 => format!("lower({a})"),
            4 => format!("concat(\",\", {a})"),
            5 => format!("[{a}, {b}]"),
            6 => format!("{{{a}, {b}}}"),
            7 => format!("{{\"k\": {a}, \"j\": {b}}}"),
            8 => format!("object.get({a}, \"k\", {b})"),
            9 if self.calls => format!("f({a})"),
            10 if self.calls => format!("g({a}, {b})"),
            9 | 10 => format!("upper({a})"),
            11 => {
                let x = self.fresh();
                let c = self.collection();
                format!("[{x} | some {x} in {c}; {x} != {b}]")
            }
            12 => {
                let (k, v) = (self.fresh(), self.fresh());
                let c = self.collection();
                format!("{{{k}: {v} | some {k}, {v} in {c}}}")
            }
            13 => format!("({a} in {b})"),
            14 => format!("sort({a})"),
            _ => format!(
                "({a} {} {b})",
                self.rng.pick(&["==", "!=", "<", ">=", "|", "&"])
            ),
        }
    }

    fn condition(&mut self) -> String {
        let a = self.term(2);
        let b = self.term(1);
        match self.rng.below(6) {
            0 => format!(
                "{a} {} {b}",
                self.rng.pick(&["==", "!=", "<", "<=", ">", ">="])
            ),
            1 => format!("not {a} == {b}"),
            2 => format!("is_string({a})"),
            3 => format!("startswith({a}, {b})"),
            4 => format!("{a} in {b}"),
            _ => a,
        }
    }

    fn statement(&mut self, out: &mut Vec<String>) {
        match self.rng.below(10) {
            7 => {
                let c = self.collection();
                let (a, b) = (self.fresh(), self.fresh());
                out.push(format!("some [{a}, {b}] in {c}"));
                self.vars.push(a);
                self.vars.push(b);
            }
            8 => {
                let e = self.term(2);
                let a = self.fresh();
                let last = self.rng.pick(&["_", "1", "\"x\""]);
                out.push(format!("[{a}, {last}] := {e}"));
                self.vars.push(a);
            }
            0 | 1 => {
                let c = self.collection();
                let x = self.fresh();
                if self.rng.below(2) == 0 {
                    let k = self.fresh();
                    out.push(format!("some {k}, {x} in {c}"));
                    self.vars.push(k);
                } else {
                    out.push(format!("some {x} in {c}"));
                }
                self.vars.push(x);
            }
            2 | 3 => {
                let e = self.term(2);
                let x = self.fresh();
                out.push(format!("{x} := {e}"));
                self.vars.push(x);
            }
            4 => {
                let c = self.collection();
                let x = self.fresh();
                let b = self.term(0);
                out.push(format!("every {x} in {c} {{ {x} != {b} }}"));
            }
            _ => out.push(self.condition()),
        }
    }

    fn body(&mut self) -> String {
        let mut stmts = Vec::new();
        for _ in 0..1 + self.rng.below(4) {
            self.statement(&mut stmts);
        }
        stmts.join("\n\t")
    }

    fn policy(&mut self) -> String {
        let q = {
            self.calls = true;
            self.vars.clear();
            let body = self.body();
            let e = self.term(1);
            format!("q contains {e} if {{\n\t{body}\n}}")
        };
        let c = {
            self.vars.clear();
            let body = self.body();
            let e = self.term(1);
            format!("c := {e} if {{\n\t{body}\n}} else := 7")
        };
        let f = {
            self.calls = false;
            self.vars = vec!["p".into()];
            let body = self.body();
            let e = self.term(1);
            format!("f(p) := {e} if {{\n\t{body}\n}} else := p")
        };
        let g = {
            self.vars = vec!["p1".into(), "p2".into()];
            let cond = self.condition();
            let more = match self.rng.below(3) {
                0 => "g([p1, _], 1) := p1".to_string(),
                1 => {
                    self.vars = vec!["p1".into()];
                    let e = self.term(1);
                    format!("g(p1, 2) := {e}")
                }
                _ => String::new(),
            };
            format!("g(p1, p2) if {{\n\t{cond}\n}}\ng(\"x\", _) := \"gx\"\n{more}")
        };
        let d = match self.rng.below(2) {
            0 => "default c2 := 5\nc2 := input.n if input.n > 1",
            _ => "c2 := input.s\nq contains 1 if input.s == \"x\"",
        };
        let r = {
            self.calls = true;
            self.vars.clear();
            let body = self.body();
            let e = self.term(2);
            if self.rng.below(2) == 0 {
                format!("r contains {e} if {{\n\t{body}\n}}")
            } else {
                format!("r := [{e}] if {{\n\t{body}\n}}")
            }
        };
        format!("package t\nimport rego.v1\n{q}\n{c}\n{f}\n{g}\n{d}\n{r}\n")
    }
}

#[derive(Default, Debug)]
struct Tally {
    compiled: usize,
    bailed: usize,
    unsupported: usize,
    invalid: usize,
}

fn run(seed: u64, policies: usize, inputs: usize) -> Tally {
    let mut rng = Rng(seed);
    let mut tally = Tally::default();
    for _ in 0..policies {
        let text = Writer {
            rng: &mut rng,
            vars: Vec::new(),
            fresh: 0,
            calls: true,
        }
        .policy();
        let mut engine = regorus::Engine::new();
        if engine.add_policy("gen.rego".into(), text.clone()).is_err() {
            tally.invalid += 1;
            continue;
        }
        let rule = "data.t.r".to_string();
        let program = Program::compile(&mut engine, std::slice::from_ref(&rule), None, &[]);
        for _ in 0..inputs {
            let input = Value::from_json_str(&input_json(&mut rng)).expect("valid input");
            engine.set_input(input.clone());
            let far = Instant::now() + std::time::Duration::from_secs(60);
            let compiled = program.evaluate(&rule, &input, &engine.get_data(), None, far);
            let interpreted = engine.eval_rule(rule.clone());
            match (compiled, interpreted) {
                (None, _) => tally.unsupported += 1,
                (Some(Ok(v)), Ok(i)) => {
                    assert_eq!(v, i, "policy:\n{text}\ninput: {input}");
                    tally.compiled += 1;
                }
                (Some(Ok(v)), Err(e)) => {
                    panic!("policy:\n{text}\ninput: {input}\ncompiled {v}, the interpreter fails: {e:#}")
                }
                (Some(Err(Stop::Bail(_))), _) => tally.bailed += 1,
                (Some(Err(Stop::TimeLimit)), _) => panic!("time limit:\n{text}"),
            }
        }
    }
    tally
}

#[test]
fn generated_policies_agree_with_the_interpreter() {
    let tally = run(0x5eed_c0de, 400, 4);
    // Most policies parse, and a fair share runs compiled to a value (the rest bail on the
    // type errors the generator provokes): the comparison is not vacuous.
    assert!(tally.invalid < 100, "{tally:?}");
    assert!(tally.compiled > 300, "{tally:?}");
}

/// The same over many more policies: `cargo test --lib generated_policies_at_length -- --ignored`.
#[test]
#[ignore]
fn generated_policies_at_length_agree_with_the_interpreter() {
    for seed in 1..=20u64 {
        let tally = run(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 500, 4);
        eprintln!("seed {seed}: {tally:?}");
    }
}
