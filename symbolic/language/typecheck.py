"""Check the names and types of a parsed rule file and fill a :class:`~symbolic.language.ruleset.RuleSet`.

Two passes: first every declaration (sorts, predicates, functions, actions,
defines, rule names), so statements may use names declared further down; then
every formula. Each mistake becomes a :class:`~symbolic.language.errors.RuleError`
pointing at the offending token; checking goes on after a mistake so a file's
errors are reported together.

Types: ``bool`` (conditions), ``real`` (numbers), ``object`` (scene objects)
and each declared sort.
"""
from __future__ import annotations

from symbolic.language import ast
from symbolic.language.errors import RuleError, did_you_mean
from symbolic.language.ruleset import OBJECT, Constraint, Define, Located, Rule, RuleSet
from symbolic.language.source import MAX_COEFFICIENT, MAX_EXPANDED_NODES, MAX_NESTING

BOOL, REAL, ERROR = "bool", "real", "<error>"
NUMERIC_TYPES = ("Real",)


def check_program(statements: list[Located], ruleset: RuleSet) -> list[RuleError]:
    """Check located statements, filling ``ruleset``; return the errors found.

    Example:
        >>> from symbolic.language.parser import parse_text
        >>> statements = [Located(s, "x.rules", ["pred car(o)", "rule r: car"])
        ...               for s in parse_text("pred car(o)\\nrule r: car")]
        >>> [e.message for e in check_program(statements, RuleSet())]
        ["predicate 'car' takes 1 argument (object). Received 0"]
    """
    checker = _Checker(ruleset)
    sorts_first = sorted(statements, key=lambda item: not isinstance(item.statement, ast.SortDecl))
    for item in sorts_first:
        checker.declare(item)
    for item in statements:
        checker.check(item)
    if not checker.check_define_cycles():
        checker.check_expanded_size()
    if ruleset.safe_action is None and ruleset.actions:
        ruleset.safe_action = ruleset.actions[0]
    return checker.errors


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _is_constant(node) -> bool:
    return all(isinstance(n, (ast.Number, ast.Arith, ast.Negate)) for n in ast.walk(node))


def _constant_value(node) -> float:
    if isinstance(node, ast.Number):
        return node.value
    if isinstance(node, ast.Negate):
        return -_constant_value(node.operand)
    left, right = _constant_value(node.left), _constant_value(node.right)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    return left / right if right else float("nan")


def _coefficient_range(node) -> tuple[float, float]:
    """Largest and smallest nonzero magnitude among a linear term's coefficients and constant.

    ``(0, inf)`` for the constant 0. Unknowns (functions, names) have coefficient 1.
    """
    if _is_constant(node):
        value = abs(_constant_value(node))
        return (value, value) if value else (0.0, float("inf"))
    if isinstance(node, ast.Negate):
        return _coefficient_range(node.operand)
    if isinstance(node, ast.Arith):
        if node.op in "+-":
            (left_big, left_small), (right_big, right_small) = (_coefficient_range(node.left),
                                                                _coefficient_range(node.right))
            return left_big + right_big, min(left_small, right_small)
        constant, term = (node.left, node.right) if _is_constant(node.left) else (node.right, node.left)
        factor = abs(_constant_value(constant))
        big, small = _coefficient_range(term)
        if node.op == "/":
            return big / factor, small / factor
        return (big * factor, small * factor) if factor else (0.0, float("inf"))
    return 1.0, 1.0


class _Checker:
    def __init__(self, ruleset: RuleSet):
        self.rules = ruleset
        self.errors: list[RuleError] = []
        self.kinds: dict[str, str] = {}  # name -> "sort", "constant", "predicate", ...
        self.rule_names: dict[str, str] = {}
        self.define_uses: dict[str, set[str]] = {}
        self.define_items: dict[str, Located] = {}
        self.item: Located | None = None
        self.bodies: list[Located] = []  # rules and constraints, for the size check

    # -- helpers
    def fail(self, message: str, node=None) -> str:
        self.errors.append(self.item.error(message, node))
        return ERROR

    def claim(self, name: str, kind: str, node) -> bool:
        if name in self.kinds:
            self.fail(f"duplicate name '{name}': already declared as {_article(self.kinds[name])} at "
                      f"{self.rules.declared_at[name]}", node)
            return False
        self.kinds[name] = kind
        self.rules.declared_at[name] = self.item.source(node)
        return True

    # -- pass 1: declarations
    def declare(self, item: Located) -> None:
        self.item = item
        s = item.statement
        if isinstance(s, ast.SortDecl):
            if self.claim(s.name, "sort", s):
                self.rules.sorts[s.name] = ()
                values = []
                for value in s.values:
                    if self.claim(value.name, f"constant of {s.name}", value):
                        values.append(value.name)
                self.rules.sorts[s.name] = tuple(values)
        elif isinstance(s, ast.PredDecl):
            if self.claim(s.name, "predicate", s):
                self.rules.predicates[s.name] = self.param_sorts(s.params)
        elif isinstance(s, ast.FuncDecl):
            if self.claim(s.name, "function", s):
                self.check_function(s)
        elif isinstance(s, ast.ActionsDecl):
            if self.rules.actions:
                self.fail(f"actions are already declared at {self.rules.declared_at['actions']}; "
                          "list every action on one 'actions' line", s)
                return
            self.rules.declared_at["actions"] = item.source(s)
            for name in s.names:
                if self.claim(name.name, "action", name):
                    self.rules.actions.append(name.name)
        elif isinstance(s, ast.DefineDecl):
            if self.claim(s.name, "define", s):
                self.define_items[s.name] = item
                self.rules.defines[s.name] = Define(s.name, tuple(p.name for p in s.params), s.body, item.source(s))
        elif isinstance(s, (ast.RuleDecl, ast.ConstraintDecl)) and s.name:
            if s.name in self.rule_names:
                self.fail(f"duplicate rule name '{s.name}': already used at {self.rule_names[s.name]}", s)
            else:
                self.rule_names[s.name] = item.source(s)

    # -- pass 2: bodies
    def check(self, item: Located) -> None:
        self.item = item
        s = item.statement
        if isinstance(s, ast.SafeDecl):
            if self.check_action(s.action) and self.rules.safe_action is not None:
                self.fail(f"the safe action is already declared as '{self.rules.safe_action}'", s)
            elif self.rules.safe_action is None and s.action.name in self.rules.actions:
                self.rules.safe_action = s.action.name
        elif isinstance(s, ast.PreferDecl):
            if self.check_action(s.action):
                self.rules.preferences[s.action.name] = self.rules.preferences.get(s.action.name, 0.0) + s.sign * s.weight
        elif isinstance(s, ast.DefineDecl):
            if self.define_items.get(s.name) is item:
                self.define_uses[s.name] = set()
                scope = {}
                for param in s.params:
                    scope[param.name] = OBJECT
                self.expect_bool(s.body, scope, define=s.name)
        elif isinstance(s, ast.ConstraintDecl):
            self.bodies.append(item)
            name = s.name or f"constraint@{item.source(s).rsplit('/', 1)[-1]}"
            if self.expect_bool(s.body, {}) != ERROR:
                if self.rules.mentions_action(s.body):
                    self.fail("a constraint describes the world and cannot mention actions; use a rule", s.body)
                else:
                    self.rules.constraints.append(Constraint(name, s.body, item.source(s)))
        elif isinstance(s, ast.RuleDecl):
            self.bodies.append(item)
            weight = s.weight
            if weight is not None and not weight > 0:
                self.fail(f"a soft rule's weight must be a positive number. Received weight={weight:g}", s)
            if self.expect_bool(s.body, {}) != ERROR and self.rule_names.get(s.name) == item.source(s):
                kind = "hard" if weight is None else "soft"
                self.rules.rules.append(Rule(s.name, kind, weight, s.body, item.source(s)))

    def param_sorts(self, params) -> tuple[str, ...]:
        sorts = []
        for param in params:
            if param.name in self.rules.sorts:
                sorts.append(param.name)
            elif param.name[:1].isupper():
                self.fail(f"unknown sort '{param.name}'.{did_you_mean(param.name, self.rules.sorts)}"
                          " (object arguments are written in lower case, e.g. 'o')", param)
                sorts.append(OBJECT)
            else:
                sorts.append(OBJECT)
        return tuple(sorts)

    def check_function(self, s: ast.FuncDecl) -> None:
        params = self.param_sorts(s.params)
        if s.type not in NUMERIC_TYPES:
            self.fail(f"unknown function type '{s.type}'; expected Real", s)
        low, high = s.low, s.high
        if low is not None and low > high:
            self.fail(f"the range of '{s.name}' is empty: [{low:g}, {high:g}]", s)
        self.rules.functions[s.name] = (params, "Real", (low, high))

    def check_action(self, name: ast.Name) -> bool:
        if name.name in self.rules.actions:
            return True
        self.fail(f"unknown action '{name.name}'.{did_you_mean(name.name, self.rules.actions)}", name)
        return False

    # -- formulas
    def expect_bool(self, node, scope, define=None) -> str:
        found = self.type_of(node, scope, define)
        if found not in (BOOL, ERROR):
            return self.fail(f"expected a condition (true/false) but '{ast.to_text(node)}' is "
                             f"{self.describe_type(found)}", node)
        return found

    def expect_real(self, node, scope, define) -> str:
        found = self.type_of(node, scope, define)
        if found not in (REAL, ERROR):
            return self.fail(f"expected a number but '{ast.to_text(node)}' is {self.describe_type(found)}", node)
        return found

    @staticmethod
    def describe_type(found: str) -> str:
        return {BOOL: "a condition", REAL: "a number (Real)", OBJECT: "an object"}.get(found, f"a {found} constant")

    def type_of(self, node, scope, define) -> str:
        if isinstance(node, ast.Truth):
            return BOOL
        if isinstance(node, ast.Number):
            return REAL
        if isinstance(node, ast.Name):
            return self.type_of_name(node, scope, define)
        if isinstance(node, ast.Call):
            return self.type_of_call(node, scope, define)
        if isinstance(node, ast.Not):
            self.expect_bool(node.operand, scope, define)
            return BOOL
        if isinstance(node, ast.Logic):
            for operand in node.operands:
                self.expect_bool(operand, scope, define)
            return BOOL
        if isinstance(node, ast.Quantifier):
            inner = dict(scope)
            for binding in node.bindings:
                if binding.label is not None:
                    self.check_label(binding, define)
                inner[binding.var] = OBJECT
            self.expect_bool(node.body, inner, define)
            return BOOL
        if isinstance(node, ast.Compare):
            return self.type_of_compare(node, scope, define)
        if isinstance(node, ast.Negate):
            self.expect_real(node.operand, scope, define)
            return REAL
        if isinstance(node, ast.Arith):
            left = self.expect_real(node.left, scope, define)
            right = self.expect_real(node.right, scope, define)
            if ERROR in (left, right):
                return ERROR
            if node.op == "*" and not (_is_constant(node.left) or _is_constant(node.right)):
                return self.fail(f"'{ast.to_text(node)}' multiplies two unknowns; the language is linear: "
                                 "multiply by a number", node)
            if node.op == "/":
                if not _is_constant(node.right):
                    return self.fail(f"'{ast.to_text(node)}' divides by an unknown; the language is linear: "
                                     "divide by a number (or multiply the other side)", node)
                if _constant_value(node.right) == 0:
                    return self.fail(f"'{ast.to_text(node)}' divides by zero", node.right)
            big, small = _coefficient_range(node)
            if big > MAX_COEFFICIENT or small < 1 / MAX_COEFFICIENT:
                reached = big if big > MAX_COEFFICIENT else small
                return self.fail(f"'{ast.to_text(node)}' makes a number of magnitude {reached:g}; arithmetic in a "
                                 f"rule file stays between {1 / MAX_COEFFICIENT:g} and {MAX_COEFFICIENT:g}", node)
            return REAL
        return self.fail(f"unexpected {type(node).__name__}", node)

    def check_label(self, binding: ast.Binding, define) -> None:
        label = binding.label
        if label in self.rules.predicates:
            params = self.rules.predicates[label]
            if params != (OBJECT,):
                self.fail(f"'{label}' cannot name a class: it takes {_plural(len(params), 'argument')}, "
                          "a class takes one object", binding)
        elif label in self.rules.defines:
            if len(self.rules.defines[label].params) != 1:
                self.fail(f"'{label}' cannot name a class: a class takes one object", binding)
            elif define is not None:
                self.define_uses[define].add(label)
        else:
            self.fail(f"unknown class predicate '{label}'."
                      f"{did_you_mean(label, list(self.rules.predicates) + list(self.rules.defines))}", binding)

    def type_of_name(self, node: ast.Name, scope, define) -> str:
        name = node.name
        if name in scope:
            return scope[name]
        kind = self.kinds.get(name)
        if kind == "action":
            return BOOL
        if kind is not None and kind.startswith("constant of "):
            return kind[len("constant of "):]
        if kind in ("predicate", "function", "define"):
            arity = self.arity(name)
            if arity:
                return self.fail(f"{kind} '{name}' takes {_plural(arity, 'argument')} "
                                 f"({', '.join(self.signature(name))}). Received 0", node)
            if kind == "define" and define is not None:
                self.define_uses[define].add(name)
            return REAL if kind == "function" else BOOL
        if kind == "sort":
            return self.fail(f"'{name}' is a sort; use one of its values "
                             f"({', '.join(self.rules.sorts.get(name, ()))})", node)
        return self.fail(self.unknown_name_message(name, scope), node)

    def unknown_name_message(self, name: str, scope) -> str:
        bound_elsewhere = any(isinstance(n, ast.Binding) and n.var == name
                              for n in self._bindings(self.item.statement))
        if bound_elsewhere:
            return (f"variable '{name}' is not bound here: a quantifier's body ends at '=>'; "
                    f"write e.g. 'forall {name}: (a({name}) => b({name}))'")
        candidates = {n: k for n, k in self.kinds.items() if k not in ("sort",)}
        candidates.update({v: "variable" for v in scope})
        hint = did_you_mean(name, candidates)
        if hint:
            closest = hint.split("'")[1]
            kind = candidates[closest]
            word = {"action": "action", "variable": "variable"}.get(kind, "constant" if kind.startswith("constant")
                                                                    else "name")
            return f"unknown {word} '{name}'.{hint}"
        return f"unknown name '{name}': not a variable, action, constant, or 0-argument predicate or function"

    @staticmethod
    def _bindings(statement):
        body = getattr(statement, "body", None)
        if body is None:
            return []
        return [b for n in ast.walk(body) if isinstance(n, ast.Quantifier) for b in n.bindings]

    def arity(self, name: str) -> int:
        return len(self.signature(name))

    def signature(self, name: str) -> tuple[str, ...]:
        if name in self.rules.predicates:
            return self.rules.predicates[name]
        if name in self.rules.functions:
            return self.rules.functions[name][0]
        if name in self.rules.defines:
            return (OBJECT,) * len(self.rules.defines[name].params)
        return ()

    def type_of_call(self, node: ast.Call, scope, define) -> str:
        name = node.name
        kind = self.kinds.get(name)
        if kind not in ("predicate", "function", "define"):
            if kind is not None:
                for arg in node.args:
                    self.type_of(arg, scope, define)
                return self.fail(f"'{name}' is {_article(kind)}, not a predicate or function: it takes no arguments", node)
            options = [n for n, k in self.kinds.items() if k in ("predicate", "function", "define")]
            return self.fail(f"unknown predicate '{name}'.{did_you_mean(name, options)}", node)
        params = self.signature(name)
        if len(node.args) != len(params):
            return self.fail(f"{kind} '{name}' takes {_plural(len(params), 'argument')} "
                             f"({', '.join(params) or 'none'}). Received {len(node.args)}", node)
        if kind == "define" and define is not None:
            self.define_uses[define].add(name)
        for position, (arg, sort) in enumerate(zip(node.args, params), start=1):
            found = self.type_of(arg, scope, define)
            if found == ERROR or found == sort:
                continue
            if sort == OBJECT:
                self.fail(f"argument {position} of '{name}' must be an object variable. Received "
                          f"'{ast.to_text(arg)}', {self.describe_type(found)}", arg)
            else:
                values = ", ".join(self.rules.sorts.get(sort, ()))
                self.fail(f"argument {position} of '{name}' must be a {sort} constant ({values}). Received "
                          f"'{ast.to_text(arg)}', {self.describe_type(found)}", arg)
        return REAL if kind == "function" else BOOL

    def type_of_compare(self, node: ast.Compare, scope, define) -> str:
        left = self.type_of(node.left, scope, define)
        right = self.type_of(node.right, scope, define)
        if ERROR in (left, right):
            return BOOL
        if node.op in ("=", "!="):
            if left != right or left == BOOL:
                what = "conditions (use <=>)" if left == right == BOOL else \
                    f"{self.describe_type(left)} and {self.describe_type(right)}"
                self.fail(f"cannot compare {what} with '{node.op}'", node)
            return BOOL
        for side, found in ((node.left, left), (node.right, right)):
            if found != REAL:
                self.fail(f"'{node.op}' compares numbers but '{ast.to_text(side)}' is {self.describe_type(found)}",
                          side)
        return BOOL

    def check_define_cycles(self) -> bool:
        """Report each recursive define once; True when there is one. Depth-first, with an explicit stack."""
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        found = False
        for root in list(self.define_uses):
            if state.get(root):
                continue
            path, pending = [root], [iter(sorted(self.define_uses[root]))]
            state[root] = 1
            while pending:
                used = next(pending[-1], None)
                if used is None:
                    state[path.pop()] = 2
                    pending.pop()
                elif state.get(used) == 1:
                    self.item = self.define_items[used]
                    self.fail(f"recursive define: {' -> '.join(path[path.index(used):] + [used])}; "
                              "defines must not depend on themselves", self.item.statement)
                    found = True
                    state.update((name, 2) for name in path)
                    break
                elif state.get(used) is None:
                    state[used] = 1
                    path.append(used)
                    pending.append(iter(sorted(self.define_uses.get(used, ()))))
        return found

    def check_expanded_size(self) -> None:
        """Refuse a define, rule or constraint that, written out with its defines, nests too deep or grows too large.

        Defines using others several times grow exponentially, and the compiler and
        reasoner work on the written-out formula.
        """
        expanded: dict[str, tuple[int, int] | None] = {}  # define -> (depth, nodes) written out
        for name in self._defines_in_dependency_order():
            item = self.define_items[name]
            expanded[name] = self._check_growth(item, f"define '{name}'", expanded)
        for item in self.bodies:
            statement = item.statement
            what = f"rule '{statement.name}'" if isinstance(statement, ast.RuleDecl) else "the constraint"
            self._check_growth(item, what, expanded)

    def _check_growth(self, item: Located, what: str, expanded: dict) -> tuple[int, int] | None:
        measured = _expanded_size(item.statement.body, expanded)
        if measured is None:
            return None  # it uses a define already reported
        depth, size = measured
        self.item = item
        if depth > MAX_NESTING:
            self.fail(f"{what} written out with the defines it uses nests {depth} levels deep (at most "
                      f"{MAX_NESTING}); use fewer layers of defines", item.statement)
            return None
        if size > MAX_EXPANDED_NODES:
            self.fail(f"{what} written out with the defines it uses has {size:,} parts (at most "
                      f"{MAX_EXPANDED_NODES:,}); a define that uses another several times doubles its size",
                      item.statement)
            return None
        return depth, size

    def _defines_in_dependency_order(self) -> list[str]:
        """Checked defines, each after the defines it uses (the graph has no cycle here)."""
        order, done = [], set()
        for root in self.define_uses:
            if root in done:
                continue
            done.add(root)
            path, pending = [root], [iter(sorted(self.define_uses[root]))]
            while pending:
                used = next(pending[-1], None)
                if used is None:
                    order.append(path.pop())
                    pending.pop()
                elif used not in done and used in self.define_uses:
                    done.add(used)
                    path.append(used)
                    pending.append(iter(sorted(self.define_uses[used])))
        return order


def _expanded_size(body, expanded: dict) -> tuple[int, int] | None:
    """Depth and node count of ``body`` with the defines in ``expanded`` written out (an upper bound).

    ``None`` when it uses a define whose size is ``None`` (one already refused).
    """
    deepest, size = 0, 0
    pending = [(body, 1)]
    while pending:
        node, depth = pending.pop()
        size += 1
        deepest = max(deepest, depth)
        names = [node.name] if isinstance(node, (ast.Call, ast.Name)) else \
            [b.label for b in node.bindings] if isinstance(node, ast.Quantifier) else []
        for name in names:
            if name in expanded:
                if expanded[name] is None:
                    return None
                define_depth, define_size = expanded[name]
                deepest, size = max(deepest, depth + define_depth), size + define_size
        pending.extend((child, depth + 1) for child in ast.children(node))
    return deepest, size
