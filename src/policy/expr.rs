//! CEL conditions and checks, with the Kubernetes CEL libraries (quantities, semver, strings,
//! lists, sets, regex, math) that admission policies use — so policy authors write the CEL they
//! already know.

use super::cost;
use super::projection::Reads;
use crate::limits::MAX_CEL_EVALUATION_COST;
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
        let program = cel::Program::compile(text).map_err(|e| e.to_string().replace('\n', "; "))?;
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
            metered: Arc::new(cost::instrument(program.expression())),
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
}
