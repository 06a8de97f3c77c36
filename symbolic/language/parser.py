"""Parse rule-file text into a syntax tree (:mod:`symbolic.language.ast`).

The grammar lives in ``grammar.lark`` beside this module and is parsed with
Lark's LALR parser. A syntax error becomes a :class:`~symbolic.language.errors.RuleError`
with the place, the offending line and what the parser expected. When a file
has several syntax errors, each statement is re-parsed on its own, so one pass
reports them all. Lines break where :mod:`symbolic.language.source` says; a
formula nested deeper than :data:`~symbolic.language.source.MAX_NESTING` or a
number out of range is a rule error too, found before anything recurses over
the statement.
"""
from __future__ import annotations

from pathlib import Path

import lark
from lark import Token, Transformer, v_args

from symbolic.language import ast
from symbolic.language.errors import RuleError, RuleErrors
from symbolic.language.source import (MAX_NESTING, MAX_TOKENS, normalize_line_breaks, number_problem, split_lines,
                                      token_limit_offset)

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")

#: words that start a statement; used to re-synchronise after a syntax error.
STATEMENT_KEYWORDS = ("sort", "pred", "func", "actions", "safe", "define", "constraint",
                      "rule", "prefer", "avoid", "include")


class RuleParser:
    """A parser for the rule language. Build one and reuse it: building compiles the grammar.

    Example:
        >>> parser = RuleParser()
        >>> statements = parser.parse("pred car(o)\\nactions stop, go", "demo.rules")
        >>> [type(s).__name__ for s in statements]
        ['PredDecl', 'ActionsDecl']
        >>> parser.parse("pred car(o", "demo.rules")
        Traceback (most recent call last):
        ...
        symbolic.language.errors.RuleError: demo.rules:1:11: unexpected end of file; expected one of: ')', ','
            pred car(o
                      ^
    """

    def __init__(self):
        self._lark = lark.Lark(GRAMMAR_PATH.read_text(), parser="lalr", propagate_positions=True,
                               maybe_placeholders=False)

    def parse(self, text: str, filename: str = "<rules>") -> list:
        """Parse ``text`` (the content of ``filename``) into a list of statements.

        Raises:
            RuleError: one syntax error, or :class:`RuleErrors` with several.
        """
        statements, errors = self.parse_recovering(text, filename)
        if errors:
            raise errors[0] if len(errors) == 1 else RuleErrors(errors)
        return statements

    def parse_recovering(self, text: str, filename: str = "<rules>") -> tuple[list, list[RuleError]]:
        """Parse what can be parsed: ``(statements, syntax errors)``.

        After a syntax error, each statement (a line starting with a statement keyword
        and its continuation lines) is parsed on its own, so later mistakes are found
        too and the good statements can still be checked.

        Example:
            >>> statements, errors = RuleParser().parse_recovering("pred a(\\npred b", "x.rules")
            >>> [s.name for s in statements], [(e.line, e.column) for e in errors]
            (['b'], [(1, 8)])
        """
        if not isinstance(text, str):
            raise TypeError(f"rule text must be a string. Received {type(text).__name__}")
        text = normalize_line_breaks(text)
        lines = split_lines(text)
        statements, errors = [], []
        beyond = token_limit_offset(text)
        if beyond is not None:  # refused before parsing: the parse time grows with the tokens
            line = text.count("\n", 0, beyond) + 1
            column = beyond - (text.rfind("\n", 0, beyond) + 1) + 1
            return [], [RuleError(f"the file holds more than {MAX_TOKENS:,} tokens (names, numbers, symbols); "
                                  "split it with 'include'", filename, line, column, lines[line - 1])]
        try:
            tree = self._lark.parse(text)
        except lark.exceptions.LarkError as error:
            first = error
        else:
            _convert(tree, filename, lines, statements, errors)
            return statements, errors
        for start, chunk in _statement_chunks(lines):
            try:
                tree = self._lark.parse("\n" * start + chunk)
            except lark.exceptions.LarkError as error:
                end = start + len(split_lines(chunk))
                errors.append(self._to_rule_error(error, filename, lines, end))
            else:
                _convert(tree, filename, lines, statements, errors)
        return statements, errors or [self._to_rule_error(first, filename, lines)]

    def _to_rule_error(self, error: lark.exceptions.LarkError, filename: str, lines: list[str],
                       end: int | None = None) -> RuleError:
        line = getattr(error, "line", 0) or 0
        column = getattr(error, "column", 0) or 0
        if isinstance(error, lark.exceptions.UnexpectedToken) and error.token.type == "$END":
            line, column = _end_position(lines[:end])
            message = f"unexpected end of {'statement' if end is not None and end < len(lines) else 'file'}; " \
                      f"expected {self._expected(error.expected)}"
        elif isinstance(error, lark.exceptions.UnexpectedToken):
            message = f"unexpected {_describe(error.token)}; expected {self._expected(error.expected)}"
        elif isinstance(error, lark.exceptions.UnexpectedCharacters):
            char = lines[line - 1][column - 1] if 0 < line <= len(lines) and 0 < column <= len(lines[line - 1]) else "?"
            message = f"unexpected character {char!r}"
            if char == '"':
                message += " (a string must end on the same line)"
        elif isinstance(error, lark.exceptions.UnexpectedEOF):
            line, column = _end_position(lines[:end])
            message = f"unexpected end of file; expected {self._expected(error.expected)}"
        else:
            message = f"cannot parse: {str(error).splitlines()[0]}"
        source_line = lines[line - 1] if 0 < line <= len(lines) else ""
        return RuleError(message, filename, line, column, source_line)

    def _expected(self, names) -> str:
        texts = {self._terminal_text(name) for name in names if name != "$END"}
        # what can continue the statement first, the keywords that start a new one last
        shown = sorted(texts, key=lambda t: (t.strip("'") in STATEMENT_KEYWORDS, t))
        if not shown:
            return "the end of the file"
        if len(shown) > 8:
            shown = shown[:8] + ["..."]
        return ("one of: " if len(shown) > 1 else "") + ", ".join(shown)

    def _terminal_text(self, name: str) -> str:
        friendly = {"NAME": "a name", "NUMBER": "a number", "STRING": 'a "quoted" path', "SIGN": "'-'"}
        if name in friendly:
            return friendly[name]
        try:
            pattern = self._lark.get_terminal(name).pattern
        except KeyError:
            return name.lower()
        return f"'{pattern.value}'" if pattern.type == "str" else name.lower()


def parse_text(text: str, filename: str = "<rules>", parser: RuleParser | None = None) -> list:
    """Parse rule text into statements (a convenience over :class:`RuleParser`).

    Example:
        >>> [s.name for s in parse_text("rule r: not go\\nsort C = {a, b}")]
        ['r', 'C']
    """
    return (parser or RuleParser()).parse(text, filename)


def _statement_chunks(lines: list[str]):
    """Split the lines into statements: (first line index, text) per statement."""
    starts = [i for i, line in enumerate(lines) if (line.split() or [""])[0].split("(")[0] in STATEMENT_KEYWORDS]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = starts + [len(lines)]
    for begin, end in zip(bounds, bounds[1:]):
        yield begin, "\n".join(lines[begin:end])


def _convert(tree: lark.Tree, filename: str, lines: list[str], statements: list, errors: list) -> None:
    """Turn each statement of a parse tree into a syntax-tree node, or into the errors it holds."""
    to_ast = _ToAst()
    for statement in tree.children:
        problems = _statement_problems(statement, filename, lines)
        if problems:
            errors.extend(problems)
        else:
            statements.append(to_ast.transform(statement))


def _statement_problems(statement: lark.Tree, filename: str, lines: list[str]) -> list[RuleError]:
    """Numbers out of range and nesting deeper than :data:`MAX_NESTING` in one statement's parse tree.

    Walks the tree with an explicit stack, so a statement nested far too deep is
    reported instead of exhausting Python's recursion limit.
    """
    problems, nested_too_deep = [], False
    stack = [(statement, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Token):
            problem = number_problem(node) if node.type == "NUMBER" else None
            if problem:
                problems.append(_error_at(problem, node, filename, lines))
        elif depth > MAX_NESTING:
            if not nested_too_deep:
                nested_too_deep = True
                problems.append(_error_at(
                    f"formula nested more than {MAX_NESTING} levels deep (each 'not', '-', quantifier, call and "
                    "operator is a level, every link of a '+', '*' or '=>' chain too); split it with 'define'",
                    node.meta, filename, lines))
        else:
            stack.extend((child, depth + 1) for child in reversed(node.children))
    return problems


def _error_at(message: str, place, filename: str, lines: list[str]) -> RuleError:
    line, column = getattr(place, "line", 0) or 0, getattr(place, "column", 0) or 0
    return RuleError(message, filename, line, column, lines[line - 1] if 0 < line <= len(lines) else "")


def _end_position(lines: list[str]) -> tuple[int, int]:
    for index in range(len(lines) - 1, -1, -1):
        stripped = lines[index].split("#")[0].rstrip()
        if stripped:
            return index + 1, len(stripped) + 1
    return 1, 1


def _describe(token: Token) -> str:
    if token.type == "NAME":
        return f"name '{token}'"
    if token.type == "NUMBER":
        return f"number {token}"
    return f"'{token}'"


def _where(meta_or_token) -> dict:
    return {"line": getattr(meta_or_token, "line", 0) or 0, "column": getattr(meta_or_token, "column", 0) or 0}


def _names(items) -> tuple:
    return tuple(item for item in items if isinstance(item, ast.Name))


@v_args(meta=True)
class _ToAst(Transformer):
    """Lark tree -> :mod:`symbolic.language.ast` nodes."""

    # -- statements
    def sort_decl(self, meta, children):
        return ast.SortDecl(str(children[0]), _names(children[1:]), **_where(children[0]))

    def pred_decl(self, meta, children):
        params = children[1] if len(children) > 1 else ()
        return ast.PredDecl(str(children[0]), params, **_where(children[0]))

    def func_decl(self, meta, children):
        name, rest = children[0], children[1:]
        params = rest.pop(0) if rest and isinstance(rest[0], tuple) else ()
        type_token = rest[0]
        low, high = rest[1] if len(rest) > 1 else (None, None)
        return ast.FuncDecl(str(name), params, str(type_token), low, high, **_where(name))

    def range(self, meta, children):
        return (children[0], children[1])

    def params(self, meta, children):
        return tuple(children)

    def param(self, meta, children):
        return ast.Param(str(children[0]), **_where(children[0]))

    def actions_decl(self, meta, children):
        return ast.ActionsDecl(_names(children), **_where(meta))

    def safe_decl(self, meta, children):
        return ast.SafeDecl(children[0], **_where(meta))

    def define_decl(self, meta, children):
        name, rest = children[0], children[1:]
        params = rest.pop(0) if len(rest) > 1 else ()
        return ast.DefineDecl(str(name), params, rest[0], **_where(name))

    def constraint_decl(self, meta, children):
        label = children[0] if len(children) > 1 else None
        return ast.ConstraintDecl(label, children[-1], **_where(meta))

    def label(self, meta, children):
        return str(children[0])

    def rule_decl(self, meta, children):
        name, rest = children[0], children[1:]
        weight = rest.pop(0) if len(rest) > 1 else None
        return ast.RuleDecl(str(name), weight, rest[0], **_where(name))

    def weight(self, meta, children):
        return children[0]

    def prefer_decl(self, meta, children):
        sign = 1 if children[0] == "prefer" else -1
        return ast.PreferDecl(children[1], children[2], sign, **_where(meta))

    def preference(self, meta, children):
        return str(children[0])

    def include_decl(self, meta, children):
        return ast.IncludeDecl(str(children[0])[1:-1], **_where(meta))

    def signed_number(self, meta, children):
        value = float(children[-1])
        return -value if len(children) == 2 else value

    # -- formulas
    def iff(self, meta, children):
        return ast.Logic("<=>", tuple(children), **_where(meta))

    def implies(self, meta, children):
        return ast.Logic("=>", tuple(children), **_where(meta))

    def disj(self, meta, children):
        return ast.Logic("or", tuple(children), **_where(meta))

    def conj(self, meta, children):
        return ast.Logic("and", tuple(children), **_where(meta))

    def not_(self, meta, children):
        return ast.Not(children[0], **_where(meta))

    def quantifier(self, meta, children):
        return ast.Quantifier(children[0], tuple(children[1:-1]), children[-1], **_where(meta))

    def quant(self, meta, children):
        return str(children[0])

    def binding(self, meta, children):
        label = str(children[1]) if len(children) > 1 else None
        return ast.Binding(str(children[0]), label, **_where(children[-1]))  # at the class, when given

    def compare(self, meta, children):
        return ast.Compare(children[1], children[0], children[2], **_where(meta))

    def compare_op(self, meta, children):
        return str(children[0])

    def arith(self, meta, children):
        return ast.Arith(children[1], children[0], children[2], **_where(meta))

    add_op = mul_op = compare_op

    def negate(self, meta, children):
        operand = children[0]
        if isinstance(operand, ast.Number):
            return ast.Number(-operand.value, **_where(meta))
        return ast.Negate(operand, **_where(meta))

    def number(self, meta, children):
        return ast.Number(float(children[0]), **_where(meta))

    def true(self, meta, children):
        return ast.Truth(True, **_where(meta))

    def false(self, meta, children):
        return ast.Truth(False, **_where(meta))

    def name(self, meta, children):
        return ast.Name(str(children[0]), **_where(children[0]))

    def call(self, meta, children):
        return ast.Call(str(children[0]), tuple(children[1:]), **_where(children[0]))
