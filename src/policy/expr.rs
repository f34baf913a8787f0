//! CEL conditions and checks, with the Kubernetes CEL libraries (quantities, semver, strings,
//! lists, sets, regex, math) that admission policies use — so policy authors write the CEL they
//! already know.

use super::cost;
use super::projection::Reads;
use crate::limits::{MAX_CEL_DEPTH, MAX_CEL_EVALUATION_COST};
use kube_cel::KubeCelExt;
use kube_cel::cel;
use serde_json::Value;
use std::sync::{Arc, LazyLock};

/// The functions every expression can call, registered once: registering the Kubernetes
/// libraries per evaluation would cost more than most evaluations do.
static FUNCTIONS: LazyLock<cel::Context<'static>> = LazyLock::new(|| {
    let mut context = cel::Context::default();
    context.register_all();
    cost::register(&mut context);
    context
});

/// A compiled CEL expression.
#[derive(Debug, Clone)]
pub struct Expression {
    pub text: String,
    /// The program as it runs: counting its cost as it goes, so that it stops when its budget is
    /// spent (policy::cost).
    metered: Arc<cel::IdedExpr>,
    /// What the program is estimated to cost on one object, from its text alone
    /// (`plumb policy lint` rejects it over limits::MAX_CEL_COST).
    pub estimated_cost: u64,
    /// The variables the expression reads, with what it reads of each: only that is converted to
    /// CEL values, so a condition on `left` and `right` never pays for converting `object`, and a
    /// check on container images never pays for their environment variables.
    reads: Vec<(String, Reads)>,
}

impl Expression {
    /// Compiles `text`; the error says what is wrong, for a located message.
    pub fn compile(text: &str) -> Result<Expression, String> {
        let program = parse(text)?;
        let metered = cost::instrument(program.expression());
        let depth = cost::depth(&metered);
        if depth > MAX_CEL_DEPTH {
            return Err(format!(
                "it nests {depth} levels deep as plumb evaluates it (counting its cost), more than the {MAX_CEL_DEPTH} plumb evaluates; split it into simpler rules or checks"
            ));
        }
        let reads = program
            .references()
            .variables()
            .into_iter()
            .filter_map(|name| {
                Reads::of(program.expression(), name).map(|reads| (name.to_string(), reads))
            })
            .collect();
        Ok(Expression {
            text: text.to_string(),
            metered: Arc::new(metered),
            estimated_cost: cost::estimate(program.expression()),
            reads,
        })
    }

    /// Evaluates to a boolean with the given variables. An expression that fails on this object, or
    /// gives something other than true or false, is an error, never a guess.
    pub fn evaluate(&self, variables: &[(&str, &Value)]) -> Result<bool, String> {
        self.evaluate_within(variables, MAX_CEL_EVALUATION_COST)
    }

    /// [`Expression::evaluate`], stopped once it has spent `budget` (policy::cost): one that spends
    /// it fails to evaluate, like any other error.
    pub(crate) fn evaluate_within(
        &self,
        variables: &[(&str, &Value)],
        budget: u64,
    ) -> Result<bool, String> {
        let mut context = FUNCTIONS.new_inner_scope();
        for (name, value) in variables {
            if let Some((_, reads)) = self.reads.iter().find(|(read, _)| read == name) {
                context
                    .add_variable(*name, reads.project(value))
                    .map_err(|e| format!("cannot pass `{name}` to CEL: {e}"))?;
            }
        }
        let result = cost::metered(budget, || cel::Value::resolve(&self.metered, &context))
            .map_err(|over| format!("`{}` {over}", self.text))?;
        match result {
            Ok(cel::Value::Bool(result)) => Ok(result),
            Ok(other) => Err(format!("`{}` gave {other:?}, not true or false", self.text)),
            Err(e) => Err(format!("`{}` failed: {e}", self.text)),
        }
    }

    /// The part of `value` the expression reads as variable `name` (an empty object when it does
    /// not read it).
    pub fn project(&self, name: &str, value: &Value) -> Value {
        match self.reads.iter().find(|(read, _)| read == name) {
            Some((_, reads)) => reads.project(value),
            None => Value::Object(Default::default()),
        }
    }
}

/// Stack for the CEL parser: it recurses deeply per bracket (about 150 KiB a level in a debug
/// build), and limits::MAX_CEL_DEPTH brackets need more than a rayon thread's stack holds.
const PARSER_STACK_BYTES: usize = 16 << 20;

/// Parses `text` on a thread with a stack the parser cannot exhaust, and refuses a syntax tree
/// deeper than limits::MAX_CEL_DEPTH before anything recurses over it (evaluating, estimating,
/// projecting, and dropping it all recurse). A panic in the parser is an error, not a crash.
fn parse(text: &str) -> Result<cel::Program, String> {
    let brackets = bracket_depth(text);
    if brackets > MAX_CEL_DEPTH {
        return Err(format!(
            "it nests brackets {brackets} deep, more than the {MAX_CEL_DEPTH} plumb evaluates; split it into simpler rules or checks"
        ));
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("cel-parser".into())
            .stack_size(PARSER_STACK_BYTES)
            .spawn_scoped(scope, || {
                let program =
                    cel::Program::compile(text).map_err(|e| e.to_string().replace('\n', "; "))?;
                let depth = cost::depth(program.expression());
                if depth > MAX_CEL_DEPTH {
                    // Dropped here, on this thread's stack: dropping recurses too.
                    return Err(format!(
                        "it nests {depth} levels deep, more than the {MAX_CEL_DEPTH} plumb evaluates; split it into simpler rules or checks"
                    ));
                }
                Ok(program)
            })
            .map_err(|e| format!("cannot start the CEL parser: {e}"))?
            .join()
            .unwrap_or_else(|_| Err("the CEL parser failed on it: it is nested too deeply".into()))
    })
}

/// How deeply `(`, `[` and `{` nest in `text`, outside string literals: the parser recurses on
/// each, past its own recursion limit.
fn bracket_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0);
    let mut quote = None;
    let mut escaped = false;
    for c in text.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' | '[' | '{' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_see_left_right_and_object() {
        let object = json!({"aggregationRule": {"clusterRoleSelectors": []}, "spec": {"containers": [{"image": "a:1"}, {"image": "b:latest"}]}});
        let has = Expression::compile("has(object.aggregationRule)").unwrap();
        assert_eq!(has.evaluate(&[("object", &object)]), Ok(true));
        assert_eq!(has.evaluate(&[("object", &json!({}))]), Ok(false));
        let bigger = Expression::compile("right >= left").unwrap();
        assert_eq!(
            bigger.evaluate(&[("left", &json!(1)), ("right", &json!(3))]),
            Ok(true)
        );
        let pinned =
            Expression::compile("object.spec.containers.all(c, !c.image.endsWith(':latest'))")
                .unwrap();
        assert_eq!(pinned.evaluate(&[("object", &object)]), Ok(false));
    }

    #[test]
    fn kubernetes_libraries_are_there() {
        let q = Expression::compile("quantity(right).compareTo(quantity(left)) > 0").unwrap();
        assert_eq!(
            q.evaluate(&[("left", &json!("512Mi")), ("right", &json!("1Gi"))]),
            Ok(true)
        );
    }

    #[test]
    fn errors_are_errors() {
        assert!(Expression::compile("right >=").is_err());
        let missing = Expression::compile("object.spec.replicas > 1").unwrap();
        assert!(missing.evaluate(&[("object", &json!({}))]).is_err());
        let not_bool = Expression::compile("1 + 1").unwrap();
        assert!(
            not_bool
                .evaluate(&[])
                .unwrap_err()
                .contains("not true or false")
        );
    }

    #[test]
    fn deeply_nested_expressions_are_errors_not_crashes() {
        // The parser's own stack no longer runs out below its limit: parentheses are no level.
        let parens = |n: usize| format!("{}true{}", "(".repeat(n), ")".repeat(n));
        assert!(Expression::compile(&parens(MAX_CEL_DEPTH)).is_ok());
        assert!(Expression::compile("'((((' == \"(((\\\"((\"").is_ok());
        assert_eq!(bracket_depth("a.all(x, [x, {'(': (1)}])"), 4);
        let chain = format!("object{} == 1", ".b".repeat(3000));
        let sum = format!("{} == 1", vec!["1"; 3000].join(" + "));
        let ternaries = format!("{}true", "true ? true : ".repeat(300));
        for text in [parens(500), chain, sum, ternaries] {
            let error = Expression::compile(&text).unwrap_err();
            assert!(
                error.contains(&format!(
                    " deep, more than the {MAX_CEL_DEPTH} plumb evaluates"
                )) || error.contains("nested too deeply")
                    || error.contains("ecursion"),
                "{error}"
            );
        }
        // As deep as the limit allows still compiles and evaluates, on a small stack.
        let deep = format!("object{} == 'x'", ".b".repeat(MAX_CEL_DEPTH - 4));
        let object = (0..MAX_CEL_DEPTH - 4).fold(json!("x"), |inner, _| json!({"b": inner}));
        let expression = Expression::compile(&deep).unwrap();
        let result = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || expression.evaluate(&[("object", &object)]))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(result, Ok(true));
        // The deepest sum accepted, as evaluated with its cost counted, on a small stack too.
        let sum = |n: usize| format!("{} != ''", vec!["object.s"; n].join(" + "));
        let n = (1..MAX_CEL_DEPTH)
            .take_while(|&n| Expression::compile(&sum(n)).is_ok())
            .last()
            .unwrap();
        assert!(n > 8, "{n}");
        let expression = Expression::compile(&sum(n)).unwrap();
        let result = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || expression.evaluate(&[("object", &json!({"s": "x"}))]))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(result, Ok(true));
    }
}
