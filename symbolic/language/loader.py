"""Reading a rule file: :func:`load_rules`, :func:`parse_rules`.

``load_rules`` follows ``include`` lines (relative to the including file, then
each folder of ``search_path``), checks every name and type, and reports all
errors of the file in one :class:`~symbolic.language.errors.RuleErrors`.
Files are read as :mod:`symbolic.language.source` says (UTF-8, size limit);
an included file must be a regular file whose name ends in ``.rules``, and a
file that is not one is refused without showing any of its content.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from symbolic.language import ast
from symbolic.language.errors import RuleError, RuleErrors
from symbolic.language.parser import RuleParser
from symbolic.language.ruleset import Located, RuleSet
from symbolic.language.source import MAX_INCLUDE_DEPTH, include_path_problem, read_rule_file, split_lines
from symbolic.language.typecheck import check_program


def parse_rules(text: str, filename: str = "<rules>", *, search_path: Iterable[str | Path] = (),
                base_dir: str | Path | None = None, parser: RuleParser | None = None) -> RuleSet:
    """Parse and check rule text.

    Args:
        text: the rule file's content.
        filename: the name shown in messages.
        search_path: folders searched for ``include`` files after ``base_dir``.
        base_dir: folder of relative includes (default: ``filename``'s folder).
        parser: a :class:`RuleParser` to reuse.

    Returns:
        The :class:`RuleSet`.

    Raises:
        RuleError: one mistake; :class:`RuleErrors` with all mistakes found in one pass.

    Example:
        >>> parse_rules("actions stop, go\\nsafe stpo")
        Traceback (most recent call last):
        ...
        symbolic.language.errors.RuleError: <rules>:2:6: unknown action 'stpo'. Did you mean 'stop'?
            safe stpo
                 ^
    """
    parser = parser or RuleParser()
    base = Path(base_dir) if base_dir is not None else Path(filename).parent
    loader = _Loader(parser, [Path(p) for p in search_path])
    if _is_file(Path(filename)):
        loader.enter(Path(filename).resolve())
    statements = loader.load_text(text, filename, base)
    ruleset = RuleSet(files=[filename] + loader.included)
    errors = loader.errors + check_program(statements, ruleset)
    if errors:
        raise errors[0] if len(errors) == 1 else RuleErrors(errors)
    return ruleset


def load_rules(path: str | Path, search_path: Iterable[str | Path] = (), *,
               parser: RuleParser | None = None) -> RuleSet:
    """Read, parse and check a rule file and everything it includes.

    Example:
        >>> rules = load_rules("configs/rules/traffic.rules")
        >>> rules.actions
        ['stop', 'yield', 'slow', 'go', 'change_left', 'change_right']
    """
    path = Path(path)
    text = read_rule_file(path)
    return parse_rules(text, str(path), search_path=search_path, base_dir=path.parent, parser=parser)


def _is_file(path: Path) -> bool:
    """``path.is_file()``, false for a name the system refuses (too long, a NUL character)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


class _Loader:
    """Parses a file and, in place, the files it includes; finds cycles and missing files."""

    def __init__(self, parser: RuleParser, search_path: list[Path]):
        self.parser = parser
        self.search_path = search_path
        self.errors: list[RuleError] = []
        self.included: list[str] = []
        self._stack: list[Path] = []
        self._done: set[Path] = set()

    def load_text(self, text: str, filename: str, base: Path) -> list[Located]:
        lines = split_lines(text)
        statements, errors = self.parser.parse_recovering(text, filename)
        self.errors.extend(errors)
        located = []
        for statement in statements:
            item = Located(statement, filename, lines)
            if isinstance(statement, ast.IncludeDecl):
                located.extend(self._include(item, base))
            else:
                located.append(item)
        return located

    def _include(self, item: Located, base: Path) -> list[Located]:
        wanted = item.statement.path
        problem = include_path_problem(wanted)
        if problem is not None:
            self.errors.append(item.error(problem))
            return []
        if len(self._stack) > MAX_INCLUDE_DEPTH:
            self.errors.append(item.error(f"includes nest more than {MAX_INCLUDE_DEPTH} files deep"))
            return []
        candidates = [base / wanted] + [folder / wanted for folder in self.search_path]
        try:
            existing = [c for c in candidates if c.exists()]
        except OSError as error:
            self.errors.append(item.error(f"cannot open included file {wanted!r} ({error.strerror})"))
            return []
        found = next((c for c in existing if c.is_file()), None)
        if found is None and existing:
            kind = "a folder" if existing[0].is_dir() else "not a regular file"
            self.errors.append(item.error(f"included file {wanted!r} is {kind}, not a rule file ({existing[0]})"))
            return []
        if found is None:
            folders = ", ".join(str(c.parent) for c in candidates)
            self.errors.append(item.error(f"included file {wanted!r} not found (searched: {folders})"))
            return []
        resolved = found.resolve()
        if resolved in self._stack:
            chain = " -> ".join(p.name for p in self._stack + [resolved])
            self.errors.append(item.error(f"include cycle: {item.file} includes {wanted!r} again ({chain})"))
            return []
        if resolved in self._done:
            return []  # already included once: its declarations are in
        self._done.add(resolved)
        try:
            text = read_rule_file(found)
        except RuleError as error:
            # a place inside the file (bad UTF-8) is its own; a whole-file problem is the include line's
            self.errors.append(error if error.line else
                               item.error(f"cannot read included file {wanted!r}: {error.message}"))
            return []
        self._stack.append(resolved)
        self.included.append(str(found))
        located = self.load_text(text, str(found), found.parent)
        self._stack.pop()
        return located

    def enter(self, path: Path) -> None:
        """Mark ``path`` (the main file) as being read, so including it again is a cycle."""
        self._stack.append(path)
        self._done.add(path)
