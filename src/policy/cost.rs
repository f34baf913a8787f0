//! What a CEL program costs, so that no condition or check can stall a run (docs/policies.md,
//! "What an expression may cost").
//!
//! The cel crate has no cost tracking and no way to interrupt an evaluation, so plumb does what
//! Kubernetes' admission CEL does, in two steps:
//!
//! - **Before it runs**, [`estimate`] walks the syntax tree with a cost model in the spirit of
//!   Kubernetes': a field selection or a call costs 1, a function whose work grows with its
//!   operands costs their size (strings at 0.1 a character, lists at 1 an entry, squared for the
//!   functions that compare every entry with every other), and a comprehension costs the size of the
//!   list it ranges over times the cost of one iteration. Sizes not known from the text are assumed
//!   (limits::ASSUMED_LIST_SIZE, limits::ASSUMED_STRING_LENGTH). `plumb policy lint` rejects a
//!   program whose estimate is over limits::MAX_CEL_COST.
//! - **While it runs**, [`instrument`] rewrites the program so that it counts its own work, in the
//!   same units, against limits::MAX_CEL_EVALUATION_COST, from the real sizes: each comprehension,
//!   once its list is known and before its first iteration, charges the fixed cost of its body
//!   times the real size of the list (as if no iteration stopped early: an upper bound, for one
//!   call per loop rather than one per iteration); each size-dependent function charges the real
//!   size of its operands before it runs. Once the budget is spent every further charge fails, so
//!   no loop or costly call starts again; what still runs is the rest of iterations already paid
//!   for, and the evaluation ends with an error. The runaway work ends inside the evaluating
//!   thread, with no clock and no second thread, and the same input always gets the same verdict.

use crate::limits::{ASSUMED_LIST_SIZE, ASSUMED_STRING_LENGTH};
use kube_cel::cel;
use kube_cel::cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedExpr, ListExpr, LiteralValue,
};
use std::cell::Cell;

/// The functions plumb adds to CEL to count cost. Their names start with `@`, which the CEL
/// parser never produces for a name a policy writes, so a policy cannot call them.
const CHARGE_RANGE: &str = "@plumb_charge_range";
const CHARGE_LINEAR: &str = "@plumb_charge_linear";
const CHARGE_SQUARED: &str = "@plumb_charge_squared";

/// Functions of a namespace (`sets.contains(a, b)` parses as `contains` called on `sets`).
const NAMESPACES: &[&str] = &[
    "base64",
    "format",
    "ip",
    "jsonpatch",
    "lists",
    "math",
    "sets",
    "strings",
];

/// How a function's work grows with its operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Growth {
    /// Fixed work, whatever its operands.
    Constant,
    /// Linear in the size of its operands.
    Linear(Unit),
    /// Compares every entry (or character) with every other: the square of the size.
    Squared(Unit),
}

/// What a function's operands usually are, for the size the estimate assumes when the text does
/// not tell (at run time the real value is measured, whatever it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Text,
    Entries,
}

fn growth(name: &str) -> Growth {
    match name {
        "sets.contains" | "sets.equivalent" | "sets.intersects" | "distinct" => {
            Growth::Squared(Unit::Entries)
        }
        "replace" => Growth::Squared(Unit::Text),
        "@in" | "sum" | "min" | "max" | "flatten" | "sort" | "isSorted" | "join" | "reverse" => {
            Growth::Linear(Unit::Entries)
        }
        "contains" | "startsWith" | "endsWith" | "matches" | "find" | "findAll" | "split"
        | "lowerAscii" | "upperAscii" | "trim" | "indexOf" | "lastIndexOf" | "substring"
        | "charAt" | "format" | "strings.quote" | "base64.encode" | "base64.decode"
        | "quantity" | "isQuantity" | "semver" | "isSemver" | "url" | "isURL" | "ip" | "isIP"
        | "cidr" | "isCIDR" | "string" | "bytes" | "_+_" | "_==_" | "_!=_" | "_<_" | "_<=_"
        | "_>_" | "_>=_" => Growth::Linear(Unit::Text),
        _ => Growth::Constant,
    }
}

/// The function a call names: `sets.contains` for `sets.contains(a, b)`.
fn function_name(call: &CallExpr) -> String {
    match call.target.as_deref().map(|t| &t.expr) {
        Some(Expr::Ident(namespace)) if NAMESPACES.contains(&namespace.as_str()) => {
            format!("{namespace}.{}", call.func_name)
        }
        _ => call.func_name.clone(),
    }
}

/// The operands of a call whose size its work depends on: not the namespace of a namespaced
/// function, nor the string `startsWith` and `endsWith` test (they read as much of it as the
/// prefix or suffix is long).
fn operands(call: &CallExpr) -> impl Iterator<Item = &IdedExpr> {
    call.target
        .as_deref()
        .filter(|_| sized_target(call))
        .into_iter()
        .chain(&call.args)
}

fn sized_target(call: &CallExpr) -> bool {
    let name = function_name(call);
    name == call.func_name && name != "startsWith" && name != "endsWith"
}

/// Size of a value as the cost model counts it: strings and bytes at 0.1 a character, lists and
/// maps at 1 an entry. Rounded up, so a non-empty operand costs at least 1.
fn units_of_text(length: u64) -> u64 {
    length.div_ceil(10)
}

/// The estimated cost of an expression, with the sizes the text cannot tell assumed.
pub(crate) fn estimate(expression: &IdedExpr) -> u64 {
    Estimator { flat: false }.visit(expression).cost
}

struct Estimator {
    /// Count what the instrumented program charges by itself (size-dependent calls, nested
    /// comprehensions' iterations) as nothing: what remains is the fixed cost of one iteration.
    flat: bool,
}

/// What the estimator knows of an expression: its cost, and its size when the text tells it.
struct Estimated {
    cost: u64,
    /// Entries of a list or map, or characters of a string, when known from the text.
    size: Option<u64>,
}

impl Estimated {
    fn cost(cost: u64) -> Estimated {
        Estimated { cost, size: None }
    }
}

impl Estimator {
    fn visit(&self, expression: &IdedExpr) -> Estimated {
        match &expression.expr {
            Expr::Literal(LiteralValue::String(text)) => Estimated {
                cost: 0,
                size: Some(text.inner().len() as u64),
            },
            Expr::Literal(_) | Expr::Unspecified => Estimated::cost(0),
            Expr::Ident(_) => Estimated::cost(1),
            Expr::Select(select) => Estimated::cost(self.visit(&select.operand).cost + 1),
            Expr::List(list) => Estimated {
                cost: list
                    .elements
                    .iter()
                    .fold(1, |sum, e| sum.saturating_add(self.visit(e).cost)),
                size: Some(list.elements.len() as u64),
            },
            Expr::Map(map) => Estimated {
                cost: map.entries.iter().fold(1, |sum, entry| match &entry.expr {
                    EntryExpr::MapEntry(entry) => sum
                        .saturating_add(self.visit(&entry.key).cost)
                        .saturating_add(self.visit(&entry.value).cost),
                    EntryExpr::StructField(field) => {
                        sum.saturating_add(self.visit(&field.value).cost)
                    }
                }),
                size: Some(map.entries.len() as u64),
            },
            Expr::Struct(structure) => Estimated::cost(structure.entries.iter().fold(
                1,
                |sum, entry| match &entry.expr {
                    EntryExpr::StructField(field) => {
                        sum.saturating_add(self.visit(&field.value).cost)
                    }
                    EntryExpr::MapEntry(entry) => sum.saturating_add(self.visit(&entry.value).cost),
                },
            )),
            Expr::Call(call) => self.call(call),
            Expr::Comprehension(comprehension) => {
                let range = self.visit(&comprehension.iter_range);
                let init = self.visit(&comprehension.accu_init);
                let iteration = self
                    .visit(&comprehension.loop_cond)
                    .cost
                    .saturating_add(self.visit(&comprehension.loop_step).cost)
                    .max(1);
                let size = range.size.unwrap_or(ASSUMED_LIST_SIZE);
                let builds_list = builds_list(comprehension);
                let iterations = if self.flat {
                    0
                } else {
                    size.saturating_mul(iteration)
                        .saturating_add(building(size, builds_list))
                };
                Estimated {
                    cost: range
                        .cost
                        .saturating_add(init.cost)
                        .saturating_add(iterations)
                        .saturating_add(self.visit(&comprehension.result).cost),
                    size: builds_list.then_some(size),
                }
            }
        }
    }

    fn call(&self, call: &CallExpr) -> Estimated {
        let name = function_name(call);
        let mut cost: u64 = 1;
        let mut work: u64 = 0;
        let growth = growth(&name);
        for operand in operands(call) {
            let operand_estimate = self.visit(operand);
            cost = cost.saturating_add(operand_estimate.cost);
            let unit = match growth {
                // A comprehension's accumulator is counted with the comprehension (`building`).
                _ if is_accumulator(operand) => continue,
                Growth::Constant => continue,
                Growth::Linear(unit) | Growth::Squared(unit) => unit,
            };
            let units = match (unit, operand_estimate.size) {
                // Known from the text: a literal costs the same at run time, uncharged.
                (Unit::Entries, Some(size)) => size,
                (Unit::Text, Some(size)) => units_of_text(size),
                // Unknown: the instrumented program charges it itself.
                (_, None) if self.flat => 0,
                (Unit::Entries, None) => ASSUMED_LIST_SIZE,
                (Unit::Text, None) => units_of_text(ASSUMED_STRING_LENGTH),
            };
            work = work.saturating_add(match growth {
                Growth::Squared(_) => units.saturating_mul(units),
                _ => units,
            });
        }
        cost = cost.saturating_add(work);
        let size = match (name.as_str(), call.args.as_slice()) {
            ("lists.range", [count]) => match &count.expr {
                Expr::Literal(LiteralValue::Int(n)) => Some(u64::try_from(*n.inner()).unwrap_or(0)),
                _ => None,
            },
            _ => None,
        };
        if name == "lists.range" && !self.flat {
            cost = cost.saturating_add(size.unwrap_or(ASSUMED_LIST_SIZE));
        }
        Estimated { cost, size }
    }
}

/// Whether a comprehension builds a list (`map`, `filter`): its accumulator starts empty.
fn builds_list(comprehension: &ComprehensionExpr) -> bool {
    matches!(&comprehension.accu_init.expr, Expr::List(l) if l.elements.is_empty())
}

/// The cost of building a list of up to `size` entries one entry at a time: the cel crate copies
/// the list built so far at each step, so `size²/2` entries in all.
fn building(size: u64, builds_list: bool) -> u64 {
    if builds_list {
        size.saturating_mul(size) / 2
    } else {
        0
    }
}

/// A comprehension's accumulator (`@result`): the parser names it with `@`, which no name a
/// policy writes can start with.
fn is_accumulator(expression: &IdedExpr) -> bool {
    matches!(&expression.expr, Expr::Ident(name) if name.starts_with('@'))
}

/// How deep `expression`'s syntax tree is, without recursing (it may be far deeper than a stack
/// holds).
pub(crate) fn depth(expression: &IdedExpr) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(expression, 1)];
    while let Some((expression, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        let children: Vec<&IdedExpr> = match &expression.expr {
            Expr::Call(call) => call
                .target
                .as_deref()
                .into_iter()
                .chain(&call.args)
                .collect(),
            Expr::Comprehension(c) => vec![
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ],
            Expr::Select(select) => vec![&select.operand],
            Expr::List(list) => list.elements.iter().collect(),
            Expr::Map(map) => map
                .entries
                .iter()
                .flat_map(|entry| match &entry.expr {
                    EntryExpr::MapEntry(entry) => vec![&entry.key, &entry.value],
                    EntryExpr::StructField(field) => vec![&field.value],
                })
                .collect(),
            Expr::Struct(structure) => structure
                .entries
                .iter()
                .flat_map(|entry| match &entry.expr {
                    EntryExpr::MapEntry(entry) => vec![&entry.key, &entry.value],
                    EntryExpr::StructField(field) => vec![&field.value],
                })
                .collect(),
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Vec::new(),
        };
        pending.extend(children.into_iter().map(|child| (child, depth + 1)));
    }
    deepest
}

/// `expression`, rewritten to count its own cost as it runs (see the module documentation). It
/// evaluates exactly as the original does as long as the budget holds.
pub(crate) fn instrument(expression: &IdedExpr) -> IdedExpr {
    let id = expression.id;
    let expr = match &expression.expr {
        Expr::Comprehension(comprehension) => {
            let mut comprehension = comprehension.clone();
            // The fixed cost of one iteration, counted before nested loops are instrumented.
            let flat = Estimator { flat: true };
            let iteration = flat
                .visit(&comprehension.loop_cond)
                .cost
                .saturating_add(flat.visit(&comprehension.loop_step).cost)
                .max(1);
            for part in [
                &mut comprehension.iter_range,
                &mut comprehension.accu_init,
                &mut comprehension.loop_cond,
                &mut comprehension.loop_step,
                &mut comprehension.result,
            ] {
                *part = instrument(part);
            }
            // Charged once the list is known, before the first iteration: every iteration, as if
            // none stopped early (an upper bound, and one call per loop rather than per iteration).
            let builds = builds_list(&comprehension);
            let range = std::mem::take(&mut comprehension.iter_range);
            comprehension.iter_range = call(
                range.id,
                CHARGE_RANGE,
                vec![
                    range,
                    literal(id, LiteralValue::Int(saturating_i64(iteration).into())),
                    literal(id, LiteralValue::Boolean(builds.into())),
                ],
            );
            Expr::Comprehension(comprehension)
        }
        Expr::Call(original) => {
            let name = function_name(original);
            let growth = growth(&name);
            let sized_target = sized_target(original);
            let charge = |operand: &IdedExpr| -> IdedExpr {
                let operand = instrument(operand);
                match (growth, &operand.expr) {
                    // Nothing to charge, known from the text (charged in the fixed cost), or
                    // charged with its comprehension.
                    (Growth::Constant, _) | (_, Expr::Literal(_)) => operand,
                    _ if is_accumulator(&operand) => operand,
                    (Growth::Squared(_), _) => call(operand.id, CHARGE_SQUARED, vec![operand]),
                    _ => call(operand.id, CHARGE_LINEAR, vec![operand]),
                }
            };
            Expr::Call(CallExpr {
                func_name: original.func_name.clone(),
                target: original.target.as_deref().map(|target| {
                    Box::new(if sized_target {
                        charge(target)
                    } else {
                        instrument(target)
                    })
                }),
                args: original.args.iter().map(charge).collect(),
            })
        }
        Expr::Select(select) => {
            let mut select = select.clone();
            *select.operand = instrument(&select.operand);
            Expr::Select(select)
        }
        Expr::List(list) => Expr::List(ListExpr {
            elements: list.elements.iter().map(instrument).collect(),
            optional_indices: list.optional_indices.clone(),
        }),
        Expr::Map(map) => {
            let mut map = map.clone();
            for entry in &mut map.entries {
                if let EntryExpr::MapEntry(entry) = &mut entry.expr {
                    entry.key = instrument(&entry.key);
                    entry.value = instrument(&entry.value);
                }
            }
            Expr::Map(map)
        }
        Expr::Struct(structure) => {
            let mut structure = structure.clone();
            for entry in &mut structure.entries {
                if let EntryExpr::StructField(field) = &mut entry.expr {
                    field.value = instrument(&field.value);
                }
            }
            Expr::Struct(structure)
        }
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => expression.expr.clone(),
    };
    IdedExpr { id, expr }
}

fn call(id: u64, name: &str, args: Vec<IdedExpr>) -> IdedExpr {
    IdedExpr {
        id,
        expr: Expr::Call(CallExpr {
            func_name: name.to_string(),
            target: None,
            args,
        }),
    }
}

fn literal(id: u64, value: LiteralValue) -> IdedExpr {
    IdedExpr {
        id,
        expr: Expr::Literal(value),
    }
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Registers the functions the instrumented programs call, and a `lists.range` that charges the
/// list it builds before building it.
pub(crate) fn register(context: &mut cel::Context<'_>) {
    context.add_function(
        CHARGE_RANGE,
        |range: cel::Value, per_entry: i64, builds_list: bool| {
            let entries = units(&range);
            let iterations = entries.saturating_mul(u64::try_from(per_entry).unwrap_or(u64::MAX));
            charge(iterations.saturating_add(building(entries, builds_list))).map(|()| range)
        },
    );
    context.add_function(CHARGE_LINEAR, |value: cel::Value| {
        charge(units(&value)).map(|()| value)
    });
    context.add_function(CHARGE_SQUARED, |value: cel::Value| {
        let units = units(&value);
        charge(units.saturating_mul(units)).map(|()| value)
    });
    context.add_function("lists.range", |n: cel::Value| -> cel::ResolveResult {
        let count = match n {
            cel::Value::Int(n) => u64::try_from(n).ok(),
            // Numbers from an object arrive unsigned.
            cel::Value::UInt(n) => Some(n),
            _ => None,
        }
        .ok_or_else(|| {
            cel::ExecutionError::function_error(
                "lists.range",
                "range argument must be a non-negative integer",
            )
        })?;
        charge(count)?;
        Ok(cel::Value::List(std::sync::Arc::new(
            (0..saturating_i64(count)).map(cel::Value::Int).collect(),
        )))
    });
}

fn units(value: &cel::Value) -> u64 {
    match value {
        cel::Value::String(text) => units_of_text(text.len() as u64),
        cel::Value::Bytes(bytes) => units_of_text(bytes.len() as u64),
        cel::Value::List(list) => list.len() as u64,
        cel::Value::Map(map) => map.map.len() as u64,
        _ => 1,
    }
}

/// The budget of the evaluation running on this thread.
#[derive(Debug, Clone, Copy)]
struct Meter {
    left: u64,
    spent: bool,
}

thread_local! {
    /// `None` outside an evaluation. An evaluation runs on one thread from start to end (the cel
    /// crate is synchronous), so a thread's meter is its evaluation's.
    static METER: Cell<Option<Meter>> = const { Cell::new(None) };
}

/// An evaluation's budget was spent: it was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverBudget {
    pub budget: u64,
}

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stopped after a cost of {} on this object, the most one evaluation may spend (its lists or strings are too large for this expression); bound the nesting of comprehensions or use a cheaper expression",
            self.budget
        )
    }
}

fn charge(cost: u64) -> Result<(), cel::ExecutionError> {
    METER.with(|meter| match meter.get() {
        Some(Meter { left, spent: false }) if left >= cost => {
            meter.set(Some(Meter {
                left: left - cost,
                spent: false,
            }));
            Ok(())
        }
        Some(_) => {
            meter.set(Some(Meter {
                left: 0,
                spent: true,
            }));
            Err(cel::ExecutionError::function_error(
                "cost",
                "the cost budget of this evaluation is spent",
            ))
        }
        // Outside a metered evaluation (plumb never evaluates so): nothing to count against.
        None => Ok(()),
    })
}

/// Runs `evaluation` with `budget` (limits::MAX_CEL_EVALUATION_COST in a run); `Err` when the budget was
/// spent, whatever the evaluation made of the error it got (`true || error` is `true` in CEL).
pub(crate) fn metered<T>(budget: u64, evaluation: impl FnOnce() -> T) -> Result<T, OverBudget> {
    let start = Meter {
        left: budget,
        spent: false,
    };
    let outer = METER.with(|meter| meter.replace(Some(start)));
    let result = evaluation();
    let end = METER.with(|meter| meter.replace(outer));
    match end {
        Some(Meter { spent: true, .. }) => Err(OverBudget { budget }),
        _ => Ok(result),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_CEL_COST;
    use crate::policy::expr::Expression;
    use serde_json::{Value, json};

    fn estimated(text: &str) -> u64 {
        Expression::compile(text).unwrap().estimated_cost
    }

    /// Eight comprehensions, each nested in the previous one, over `object.spec.items`.
    pub(crate) fn nested_alls(depth: usize) -> String {
        let vars: Vec<String> = (0..depth).map(|i| format!("v{i}")).collect();
        let mut text = "true".to_string();
        for var in vars.iter().rev() {
            text = format!("object.spec.items.all({var}, {text})");
        }
        text
    }

    fn items(count: usize) -> Value {
        json!({"spec": {"items": (0..count).collect::<Vec<_>>()}})
    }

    #[test]
    fn cheap_expressions_are_estimated_under_the_limit() {
        for text in [
            "right >= left",
            "has(object.spec.replicas) && object.spec.replicas > 1",
            "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))",
            // Two nested comprehensions over lists of the assumed size, with string work.
            "object.spec.template.spec.containers.all(c, c.env.all(e, !e.name.startsWith('SECRET_')))",
            "quantity(right).compareTo(quantity(left)) > 0",
            "lists.range(100).all(i, i < 100)",
        ] {
            let cost = estimated(text);
            assert!(cost > 0 && cost <= MAX_CEL_COST, "{text}: {cost}");
        }
    }

    #[test]
    fn nested_comprehensions_are_estimated_over_the_limit() {
        // Each level multiplies by the assumed list size.
        let one = estimated(&nested_alls(1));
        let two = estimated(&nested_alls(2));
        assert!(two > one * (ASSUMED_LIST_SIZE - 1), "{one} {two}");
        for text in [
            nested_alls(3),
            nested_alls(8),
            // Sizes known from the text count as they are.
            "lists.range(100000000).all(i, true)".to_string(),
            "[1, 2, 3].all(a, lists.range(10000000).exists(b, b == a))".to_string(),
            // Comparing every entry of one list with every entry of another, inside a loop.
            "object.a.all(x, sets.intersects(object.b, object.c))".to_string(),
        ] {
            assert!(estimated(&text) > MAX_CEL_COST, "{text}");
        }
        // The estimate saturates rather than overflowing.
        assert_eq!(estimated(&nested_alls(10)), u64::MAX);
    }

    #[test]
    fn string_work_grows_with_length() {
        let short = estimated("object.a.all(x, x.contains('y'))");
        let long = estimated(&format!(
            "object.a.all(x, x.contains('{}'))",
            "y".repeat(1000)
        ));
        assert!(long >= short + ASSUMED_LIST_SIZE * 99, "{short} {long}");
    }

    #[test]
    fn instrumented_programs_evaluate_as_the_original() {
        let object = json!({"spec": {"items": [1, 2, 3], "names": ["a", "bb"], "labels": {"x": "y"}},
            "metadata": {"name": "shop-api"}});
        for text in [
            "object.spec.items.all(i, i > 0)",
            "object.spec.names.exists(n, n == 'bb')",
            "object.spec.names.map(n, n + 'x') == ['ax', 'bbx']",
            "object.spec.items.filter(i, i > 1).size() == 2",
            "object.spec.names.exists_one(n, n.startsWith('b'))",
            "object.metadata.name.startsWith('shop-') && object.metadata.name.contains('api')",
            "'a' in object.spec.names && !('c' in object.spec.names)",
            "object.spec.labels.all(k, k == 'x')",
            "sets.contains(object.spec.items, [1, 2])",
            "object.spec.names.join('-') == 'a-bb'",
            "lists.range(3) == [0, 1, 2]",
            "object.metadata.name.replace('-', '.') == 'shop.api'",
            "object.spec.items.all(i, object.spec.items.exists(j, j >= i))",
        ] {
            let program = cel::Program::compile(text).unwrap();
            let mut context = cel::Context::default();
            context.add_variable("object", object.clone()).unwrap();
            kube_cel::KubeCelExt::register_all(&mut context);
            let original = program.execute(&context);
            let result = Expression::compile(text)
                .unwrap()
                .evaluate(&[("object", &object)]);
            assert_eq!(original, Ok(cel::Value::Bool(true)), "{text}");
            assert_eq!(result, Ok(true), "{text}");
        }
    }

    #[test]
    fn an_evaluation_stops_when_its_budget_is_spent() {
        let nested = Expression::compile(&nested_alls(8)).unwrap();
        let start = std::time::Instant::now();
        let error = nested.evaluate(&[("object", &items(10))]).unwrap_err();
        assert!(
            error.contains("stopped after a cost of 1000000 "),
            "{error}"
        );
        assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
        // The same program on a small list is evaluated: the budget is counted from real sizes.
        assert_eq!(nested.evaluate(&[("object", &items(2))]), Ok(true));
        // A spent budget is an error even where CEL would absorb the error (`true || error`).
        let absorbed = Expression::compile(&format!("{} || true", nested_alls(8))).unwrap();
        assert!(absorbed.evaluate(&[("object", &items(10))]).is_err());
    }

    #[test]
    fn size_dependent_functions_charge_their_real_operands() {
        let text = "object.s.replace('a', object.s).size() > 0";
        let program = Expression::compile(text).unwrap();
        // Small strings pass; a string whose square blows the budget is stopped before replace runs.
        assert_eq!(
            program.evaluate(&[("object", &json!({"s": "aaa"}))]),
            Ok(true)
        );
        let long = json!({"s": "a".repeat(100_000)});
        let start = std::time::Instant::now();
        assert!(
            program
                .evaluate(&[("object", &long)])
                .unwrap_err()
                .contains("stopped")
        );
        assert!(start.elapsed().as_secs() < 5);
        let range = Expression::compile("lists.range(object.n).size() > 0").unwrap();
        assert!(
            range
                .evaluate(&[("object", &json!({"n": 1_000_000_000_000i64}))])
                .unwrap_err()
                .contains("stopped")
        );
        assert_eq!(range.evaluate(&[("object", &json!({"n": 5}))]), Ok(true));
    }

    #[test]
    fn a_budget_counts_iterations_from_real_sizes() {
        let all = Expression::compile("object.spec.items.all(i, true)").unwrap();
        // Find the smallest budget 100 items pass with: each iteration costs the same.
        let budget = (1..1000)
            .find(|&b| all.evaluate_within(&[("object", &items(100))], b).is_ok())
            .unwrap();
        assert_eq!(budget % 100, 0, "{budget}");
        assert!(
            all.evaluate_within(&[("object", &items(101))], budget)
                .is_err()
        );
        assert!(
            all.evaluate_within(&[("object", &items(100))], budget - 1)
                .is_err()
        );
        // Strings are charged by their real length.
        let contains = Expression::compile("object.s.contains('x')").unwrap();
        let text = |n: usize| json!({"s": "a".repeat(n)});
        assert_eq!(
            contains.evaluate_within(&[("object", &text(100))], 10),
            Ok(false)
        );
        assert!(
            contains
                .evaluate_within(&[("object", &text(101))], 10)
                .is_err()
        );
    }

    #[test]
    fn budgets_of_nested_evaluations_do_not_mix() {
        let outer = metered(5, || {
            let inner = metered(100, || charge(50));
            (inner, charge(5), charge(1))
        });
        assert!(matches!(outer, Err(OverBudget { budget: 5 })), "{outer:?}");
        let fine = metered(10, || charge(10));
        assert!(matches!(fine, Ok(Ok(()))));
        // Outside an evaluation nothing is counted.
        assert!(charge(u64::MAX).is_ok());
    }
}
