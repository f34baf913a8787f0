//! What a CEL expression can read of a variable, worked out from its syntax tree, so that only that
//! part of a large object is handed to CEL.
//!
//! The cel crate copies every variable into its own representation, deeply, on every evaluation;
//! for a Deployment that is most of the cost of a check. An expression such as
//! `object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))` reads the image of
//! each container and nothing else, so the object it needs is
//! `{spec: {template: {spec: {containers: [{image}, ...]}}}}`.
//!
//! The analysis is conservative: any use of a value other than selecting a field from it or
//! iterating over it (passing it to a function, comparing it, putting it in a literal, indexing it
//! with a computed key) keeps that value whole. A map that is iterated is kept whole too, since
//! iteration yields its keys. So a pruned object evaluates exactly as the whole one would: the same
//! fields are there, missing fields are just as missing.

use kube_cel::cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The part of a value an expression reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    /// Used as a whole: keep everything.
    whole: bool,
    /// Fields selected from it, and what is read of each.
    fields: BTreeMap<String, Reads>,
    /// Iterated over: what is read of each list entry.
    entries: Option<Box<Reads>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Entry,
}

impl Reads {
    /// What `expression` reads of the variable `root`; `None` when it never mentions it.
    pub fn of(expression: &IdedExpr, root: &str) -> Option<Reads> {
        let mut analysis = Analysis {
            root,
            reads: Reads::default(),
            mentioned: false,
        };
        analysis.visit(expression, &mut Vec::new());
        analysis.mentioned.then_some(analysis.reads)
    }

    /// The part of `value` this reads: the same fields, as deep as they are read.
    pub fn project(&self, value: &Value) -> Value {
        if self.whole {
            return value.clone();
        }
        match value {
            Value::Object(map) if self.entries.is_none() => Value::Object(
                self.fields
                    .iter()
                    .filter_map(|(key, reads)| Some((key.clone(), reads.project(map.get(key)?))))
                    .collect::<Map<String, Value>>(),
            ),
            Value::Array(items) if self.fields.is_empty() => match &self.entries {
                Some(entry) => Value::Array(items.iter().map(|i| entry.project(i)).collect()),
                // Only its presence is tested (`has()`).
                None => Value::Array(Vec::new()),
            },
            // A map that is iterated, a field selected from a list (an error either way): whole.
            _ => value.clone(),
        }
    }

    fn at(&mut self, path: &[Step]) -> &mut Reads {
        let mut node = self;
        for step in path {
            node = match step {
                Step::Field(name) => node.fields.entry(name.clone()).or_default(),
                Step::Entry => node.entries.get_or_insert_with(Default::default),
            };
        }
        node
    }
}

struct Analysis<'a> {
    root: &'a str,
    reads: Reads,
    mentioned: bool,
}

/// Comprehension variables bound to a place in the root variable (`None`: bound to something else).
type Scope = Vec<(String, Option<Vec<Step>>)>;

impl Analysis<'_> {
    /// Walks `expr`; returns the place in the root variable it denotes, if it is one. A place that
    /// is returned is not yet marked as read: the caller decides how it is used.
    fn visit(&mut self, expr: &IdedExpr, scope: &mut Scope) -> Option<Vec<Step>> {
        match &expr.expr {
            Expr::Ident(name) => match scope.iter().rev().find(|(bound, _)| bound == name) {
                Some((_, place)) => place.clone(),
                None if name == self.root => {
                    self.mentioned = true;
                    Some(Vec::new())
                }
                None => None,
            },
            Expr::Select(select) => {
                let mut place = self.visit(&select.operand, scope)?;
                place.push(Step::Field(select.field.clone()));
                // `has(x.f)` needs `f` to be there, nothing of its value.
                self.reads.at(&place);
                Some(place)
            }
            Expr::Call(call) => {
                // `x["key"]` with a literal key is a selection; a literal position, any entry.
                if call.func_name == "_[_]"
                    && call.target.is_none()
                    && let [operand, index] = call.args.as_slice()
                {
                    let step = match &index.expr {
                        Expr::Literal(LiteralValue::String(key)) => {
                            Some(Step::Field(key.inner().to_string()))
                        }
                        Expr::Literal(LiteralValue::Int(_) | LiteralValue::UInt(_)) => {
                            Some(Step::Entry)
                        }
                        _ => None,
                    };
                    if let Some(step) = step {
                        let place = self.visit(operand, scope);
                        if let Some(mut place) = place {
                            place.push(step);
                            self.reads.at(&place);
                            return Some(place);
                        }
                        return None;
                    }
                }
                for operand in call.target.iter().map(|t| t.as_ref()).chain(&call.args) {
                    self.use_whole(operand, scope);
                }
                None
            }
            Expr::Comprehension(comprehension) => {
                let range = self.visit(&comprehension.iter_range, scope);
                let entry = range.map(|mut place| {
                    place.push(Step::Entry);
                    self.reads.at(&place);
                    place
                });
                let depth = scope.len();
                match &comprehension.iter_var2 {
                    // Two variables: position (or key) and entry (or value).
                    Some(second) => {
                        scope.push((comprehension.iter_var.clone(), None));
                        scope.push((second.clone(), entry));
                    }
                    None => scope.push((comprehension.iter_var.clone(), entry)),
                }
                self.use_whole(&comprehension.accu_init, scope);
                scope.push((comprehension.accu_var.clone(), None));
                for part in [
                    &comprehension.loop_cond,
                    &comprehension.loop_step,
                    &comprehension.result,
                ] {
                    self.use_whole(part, scope);
                }
                scope.truncate(depth);
                None
            }
            Expr::List(list) => {
                for element in &list.elements {
                    self.use_whole(element, scope);
                }
                None
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(entry) = &entry.expr {
                        self.use_whole(&entry.key, scope);
                        self.use_whole(&entry.value, scope);
                    }
                }
                None
            }
            Expr::Struct(structure) => {
                for entry in &structure.entries {
                    if let EntryExpr::StructField(field) = &entry.expr {
                        self.use_whole(&field.value, scope);
                    }
                }
                None
            }
            Expr::Literal(_) | Expr::Unspecified => None,
        }
    }

    /// Visits `expr`, keeping whatever place it denotes whole.
    fn use_whole(&mut self, expr: &IdedExpr, scope: &mut Scope) {
        if let Some(place) = self.visit(expr, scope) {
            self.reads.at(&place).whole = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::expr::Expression;
    use serde_json::json;

    fn project(expression: &str, value: &Value) -> Value {
        let program = kube_cel::cel::Program::compile(expression).unwrap();
        Reads::of(program.expression(), "object")
            .unwrap()
            .project(value)
    }

    fn deployment() -> Value {
        json!({"kind": "Deployment", "metadata": {"name": "api", "labels": {"team": "a", "tier": "web"}},
            "spec": {"replicas": 3, "template": {"spec": {
                "containers": [{"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
                               {"name": "b", "image": "b:latest", "ports": [{"containerPort": 80}]}]}}}})
    }

    #[test]
    fn selections_and_iteration_keep_only_what_is_read() {
        let object = deployment();
        assert_eq!(
            project(
                "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))",
                &object
            ),
            json!({"spec": {"template": {"spec": {"containers": [{"image": "a:1"}, {"image": "b:latest"}]}}}})
        );
        assert_eq!(
            project(
                "has(object.spec.replicas) && object.kind == 'Deployment'",
                &object
            ),
            json!({"kind": "Deployment", "spec": {"replicas": 3}})
        );
        assert_eq!(
            project("object.metadata.labels['team'] == 'a'", &object),
            json!({"metadata": {"labels": {"team": "a"}}})
        );
    }

    #[test]
    fn whole_uses_keep_the_whole_value() {
        let object = deployment();
        // A map passed to an operator, iterated, or sized is kept whole.
        for (expression, kept) in [
            (
                "'team' in object.metadata.labels",
                json!({"metadata": {"labels": {"team": "a", "tier": "web"}}}),
            ),
            (
                "object.metadata.labels.all(k, k != 'x')",
                json!({"metadata": {"labels": {"team": "a", "tier": "web"}}}),
            ),
            (
                "size(object.metadata) > 0",
                json!({"metadata": object["metadata"].clone()}),
            ),
        ] {
            assert_eq!(project(expression, &object), kept, "{expression}");
        }
        assert_eq!(project("object != null", &object), object);
        assert_eq!(
            project("[object.spec].all(s, s.replicas > 1)", &object),
            json!({"spec": object["spec"].clone()})
        );
    }

    #[test]
    fn pruned_objects_evaluate_as_whole_ones_do() {
        let object = deployment();
        for expression in [
            "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))",
            "object.spec.template.spec.containers.exists(c, has(c.ports))",
            "object.spec.template.spec.containers.map(c, c.name) == ['a', 'b']",
            "object.spec.template.spec.containers.filter(c, has(c.env)).size() == 1",
            "object.spec.template.spec.containers[0].env[0].value == '1'",
            "object.metadata.labels.exists(k, k == 'tier')",
            "has(object.spec.strategy)",
            "object.spec.template.spec.containers.all(i, c, c.image != '')",
        ] {
            let whole = Expression::compile(expression)
                .unwrap()
                .evaluate(&[("object", &object)]);
            let program = kube_cel::cel::Program::compile(expression).unwrap();
            let reads = Reads::of(program.expression(), "object").unwrap();
            let pruned = Expression::compile(expression)
                .unwrap()
                .evaluate(&[("object", &reads.project(&object))]);
            assert_eq!(whole.is_ok(), pruned.is_ok(), "{expression}");
            if let (Ok(a), Ok(b)) = (&whole, &pruned) {
                assert_eq!(a, b, "{expression}");
            }
        }
        // A missing field is missing in both.
        let missing = Expression::compile("object.spec.paused").unwrap();
        assert!(
            missing
                .evaluate(&[("object", &project("object.spec.paused", &object))])
                .is_err()
        );
    }
}
