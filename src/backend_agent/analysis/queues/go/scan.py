"""Phase one for Go queues: a file's package, imports, package-level constants, the local
assignments of each function, the calls and composite literals that may produce, consume,
define, enqueue or schedule, struct types (payloads, river job arguments) and small methods
(river's ``Kind()`` and ``InsertOpts()``).

Expressions use the endpoint scanner's tagged tuples (``endpoints.go.scan.expr``)."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from tree_sitter import Node

from backend_agent.analysis.endpoints.go.packages import package_name
from backend_agent.analysis.endpoints.go.scan import Expr, descendants, expr
from backend_agent.analysis.parsing import node_text, parse

# Calls worth keeping, by the called function or method name.
CALLS = frozenset(
    {
        # kafka (sarama, confluent), amqp, go-redis, nats
        "ConsumePartition",
        "Consume",
        "SubscribeTopics",
        "Subscribe",
        "Publish",
        "PublishWithContext",
        "QueueBind",
        "PSubscribe",
        "Request",
        "QueueSubscribe",
        "ChanSubscribe",
        "PullSubscribe",
        "PublishMsg",
        "PublishAsync",
        # asynq, machinery, river, robfig/cron
        "NewTask",
        "NewTaskWithHeaders",
        "HandleFunc",
        "Handle",
        "Register",
        "Enqueue",
        "EnqueueContext",
        "RegisterTask",
        "RegisterTasks",
        "RegisterPeriodicTask",
        "SendTask",
        "SendTaskWithContext",
        "Insert",
        "InsertTx",
        "InsertMany",
        "InsertManyTx",
        "NewPeriodicJob",
        "AddFunc",
        "AddJob",
        "AddWorker",
    }
)
# Composite literals worth keeping, by the last component of their type.
LITERALS = frozenset(
    {
        "ProducerMessage",
        "Message",
        "Writer",
        "WriterConfig",
        "ReaderConfig",
        "TopicPartition",
        "SendMessageInput",
        "SendMessageBatchInput",
        "ReceiveMessageInput",
        "PublishInput",
        "PublishBatchInput",
        "SubscribeInput",
        "XAddArgs",
        "XReadArgs",
        "XReadGroupArgs",
        "Signature",
    }
)
# Import path fragments without which a file uses no queue library (checked with ``in``).
_IMPORTS = (
    b"/sarama", b"segmentio/kafka-go", b"confluent-kafka-go", b"amqp091-go", b"streadway/amqp",
    b"aws-sdk-go", b"go-redis", b"nats.go", b"hibiken/asynq", b"RichardKnop/machinery",
    b"riverqueue/river", b"robfig/cron",
)  # fmt: skip
_PACKAGE = re.compile(rb"^package\s+(\w+)", re.MULTILINE)
_CONST = re.compile(
    rb'^\s*(?:const\s+|var\s+)?([A-Za-z_]\w*)(?:\s+[A-Za-z_][\w.]*)?\s*=\s*"([^"\\\n]*)"',
    re.MULTILINE,
)
_IMPORT_SPEC = re.compile(rb'^\s*(?:import\s+)?(?:(\w+)\s+)?"([\w.~/-]+)"\s*$', re.MULTILINE)
_STRUCTS = re.compile(rb"struct\s*\{[^}]*`[^`]*json:")
_METHODS = ("Kind", "InsertOpts")
_TEXT = 160


@dataclass(frozen=True)
class GoCall:
    """A call or composite literal worth classifying (``expr`` is ``("call", ...)`` or
    ``("lit", ...)``) with its enclosing function and arguments as written."""

    expr: Expr
    line: int
    symbol: str  # "Func" or "Type.Method"
    texts: tuple[str, ...] = ()
    outer: str = ""  # the name of the call this one is an argument of (NewTask in Register)


@dataclass
class GoQueueFacts:
    package: str = ""
    imports: dict[str, str] = field(default_factory=dict)  # alias -> import path
    consts: dict[str, Expr] = field(default_factory=dict)
    locals: dict[str, dict[str, Expr]] = field(default_factory=dict)  # symbol -> name -> expr
    calls: list[GoCall] = field(default_factory=list)
    structs: dict[str, tuple[tuple[str, str, str], ...]] = field(default_factory=dict)
    methods: dict[str, tuple[Expr, int]] = field(default_factory=dict)  # "Type.Kind" -> result
    module: str = ""  # for go.mod files: the module path
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)  # symbol -> parameters
    # Calls of any function with simple leading arguments, read lexically from every file:
    # function name -> (line, enclosing function, arguments), to follow names through wrappers.
    # The last item is the call's argument count when all its arguments were read, else -1.
    sites: dict[str, list[tuple[int, str, tuple[Expr, ...], int]]] = field(default_factory=dict)


def scan_go(source: bytes) -> GoQueueFacts:
    """Facts of one Go file. Files that import no queue library keep their package name and
    string constants, and are parsed only when they declare JSON structs (payloads)."""
    queues = any(hint in source for hint in _IMPORTS)
    if not queues and _STRUCTS.search(source) is None:
        package = _PACKAGE.search(source)
        facts = GoQueueFacts(package.group(1).decode() if package else "")
        for match in _CONST.finditer(source):
            facts.consts[match.group(1).decode()] = ("s", match.group(2).decode("utf-8", "replace"))
        header = source.split(b"\nfunc ", 1)[0]  # imports come before any function
        for match in _IMPORT_SPEC.finditer(header):
            path = match.group(2).decode()
            if match.group(1):
                facts.imports[match.group(1).decode()] = path
            else:
                for alias in package_names(path):
                    facts.imports.setdefault(alias, path)
    else:
        facts = GoQueueFacts()
        _Walker(facts, queues).file(parse(source, "go").root_node)
    facts.sites = call_sites(source)
    return facts


_ARG = rb'(?:"[^"\\\n]*"|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)'
_SITE = re.compile(
    rb"\b(\w+)\(\s*("
    + _ARG
    + rb")(?:\s*,\s*("
    + _ARG
    + rb"))?(?:\s*,\s*("
    + _ARG
    + rb"))?\s*([,)])"
)
_FUNC = re.compile(rb"^func\s+(?:\(\s*\w*\s*\*?(\w+)[^)]*\)\s*)?(\w+)", re.MULTILINE)
_KEYWORDS = frozenset(
    {
        "if",
        "for",
        "switch",
        "return",
        "func",
        "go",
        "defer",
        "make",
        "len",
        "append",
        "new",
        "panic",
        "string",
        "int",
        "byte",
        "cap",
        "delete",
    }
)


def call_sites(source: bytes) -> dict[str, list[tuple[int, str, tuple[Expr, ...], int]]]:
    """Calls whose leading arguments are literals or names, by function name: where a value a
    wrapper passes on (``RegisterHandlers(convoy.EventProcessor, ...)``) comes from."""
    functions = [(m.start(), f"{m.group(1).decode()}.{m.group(2).decode()}" if m.group(1)
                  else m.group(2).decode()) for m in _FUNC.finditer(source)]  # fmt: skip
    starts = [start for start, _ in functions]
    found: dict[str, list[tuple[int, str, tuple[Expr, ...], int]]] = {}
    for match in _SITE.finditer(source):
        name = match.group(1).decode()
        if name in _KEYWORDS or source[max(match.start() - 5, 0) : match.start()].endswith(
            b"func "
        ):
            continue
        args = tuple(_lexical_arg(a) for a in match.groups()[1:4] if a is not None)
        arity = len(args) if match.group(5) == b")" else -1
        index = bisect_right(starts, match.start()) - 1
        symbol = functions[index][1] if index >= 0 else ""
        line = source.count(b"\n", 0, match.start()) + 1
        found.setdefault(name, []).append((line, symbol, args, arity))
    return found


def _lexical_arg(text: bytes) -> Expr:
    value = text.decode("utf-8", "replace")
    if value.startswith('"'):
        return ("s", value[1:-1])
    head, _, field = value.partition(".")
    return ("sel", ("id", head), field) if field else ("id", head)


def scan_go_mod(source: bytes) -> GoQueueFacts:
    found = re.search(rb"^module\s+(\S+)", source, re.MULTILINE)
    return GoQueueFacts(module=found.group(1).decode().strip('"') if found else "")


class _Walker:
    def __init__(self, facts: GoQueueFacts, queues: bool) -> None:
        self.facts = facts
        self.queues = queues

    def file(self, root: Node) -> None:
        for node in root.named_children:
            kind = node.type
            if kind == "package_clause" and node.named_children:
                self.facts.package = node_text(node.named_children[0])
            elif kind == "import_declaration":
                self._imports(node)
            elif kind in ("const_declaration", "var_declaration"):
                self._specs(node, self.facts.consts)
            elif kind == "type_declaration":
                self._types(node)
            elif kind in ("function_declaration", "method_declaration"):
                self._function(node)

    def _imports(self, node: Node) -> None:
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type == "import_spec":
                path_node = current.child_by_field_name("path")
                name_node = current.child_by_field_name("name")
                if path_node is not None:
                    path = node_text(path_node).strip('"`')
                    if name_node is not None:
                        self.facts.imports[node_text(name_node)] = path
                    else:
                        for alias in package_names(path):
                            self.facts.imports.setdefault(alias, path)
            stack.extend(current.named_children)

    def _specs(self, node: Node, into: dict[str, Expr]) -> None:
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type in ("const_spec", "var_spec"):
                names = current.children_by_field_name("name")
                value = current.child_by_field_name("value")
                values = value.named_children if value is not None else []
                for name, item in zip(names, values, strict=False):
                    into[node_text(name)] = expr(item)
                if value is None and current.child_by_field_name("type") is not None:
                    for name in names:  # var evt OrderCreated: its type is what is known
                        into[node_text(name)] = (
                            "type",
                            node_text(current.child_by_field_name("type")),
                        )
            else:
                stack.extend(current.named_children)

    def _types(self, node: Node) -> None:
        for spec in node.named_children:
            kind = spec.child_by_field_name("type")
            if spec.type != "type_spec" or kind is None or kind.type != "struct_type":
                continue
            fields: list[tuple[str, str, str]] = []
            for declaration in descendants(kind, "field_declaration"):
                tag = declaration.child_by_field_name("tag")
                type_node = declaration.child_by_field_name("type")
                for name in declaration.children_by_field_name("name"):
                    fields.append(
                        (node_text(name), node_text(type_node), node_text(tag).strip("`"))
                    )
            self.facts.structs[node_text(spec.child_by_field_name("name"))] = tuple(fields)

    def _function(self, node: Node) -> None:
        name = node_text(node.child_by_field_name("name"))
        receiver = node.child_by_field_name("receiver")
        owner = ""
        if receiver is not None:
            for param in receiver.named_children:
                kind = param.child_by_field_name("type")
                owner = node_text(kind).lstrip("*").split("[", 1)[0] if kind is not None else ""
        symbol = f"{owner}.{name}" if owner else name
        body = node.child_by_field_name("body")
        if body is None:
            return
        if owner and name in _METHODS:
            returned = next(iter(descendants(body, "return_statement")), None)
            values = (
                returned.named_children[0].named_children
                if returned and returned.named_children
                else []
            )
            if values:
                self.facts.methods[f"{owner}.{name}"] = (expr(values[0]), node.start_point[0] + 1)
        if not self.queues:
            return
        local: dict[str, Expr] = {}
        params = node.child_by_field_name("parameters")
        names: list[str] = []
        for param in params.named_children if params is not None else []:
            kind = param.child_by_field_name("type")
            for param_name in param.children_by_field_name("name") or [param]:
                names.append(node_text(param_name) if param_name is not param else "_")
                if param_name is not param:
                    local[node_text(param_name)] = ("type", node_text(kind))
        self.facts.params[symbol] = tuple(names)
        self._body(body, symbol, local)
        if local:
            self.facts.locals[symbol] = local

    def _body(self, body: Node, symbol: str, local: dict[str, Expr]) -> None:
        stack: list[tuple[Node, str]] = [(body, "")]
        while stack:
            node, outer = stack.pop()
            kind = node.type
            if kind in ("short_var_declaration", "assignment_statement"):
                left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                if left is not None and right is not None:
                    values = right.named_children
                    for index, name in enumerate(left.named_children):
                        if index < len(values):
                            local[node_text(name)] = expr(values[index])
                        elif len(values) == 1:  # data, err := json.Marshal(evt)
                            local.setdefault(node_text(name), ("?", ""))
            elif kind == "var_spec":
                self._specs(node, local)
            elif kind == "call_expression":
                outer = self._call(node, symbol, outer)
            elif kind == "composite_literal":
                self._literal(node, symbol, outer)
            elif kind == "func_literal":
                pass  # its body is walked below, with the same locals
            stack.extend((child, outer) for child in reversed(node.named_children))

    def _call(self, node: Node, symbol: str, outer: str) -> str:
        func = node.child_by_field_name("function")
        if func is None:
            return outer
        name = node_text(
            func.child_by_field_name("field") if func.type == "selector_expression" else func
        )
        if name not in CALLS:
            return outer
        arguments = node.child_by_field_name("arguments")
        texts = tuple(node_text(a)[:_TEXT] for a in arguments.named_children) if arguments else ()
        named = func.child_by_field_name("field") if func.type == "selector_expression" else None
        line = (named or node).start_point[0] + 1  # a chained `.Publish(` is on its own line
        self.facts.calls.append(GoCall(expr(node), line, symbol, texts, outer))
        return name

    def _literal(self, node: Node, symbol: str, outer: str) -> None:
        kind = node.child_by_field_name("type")
        if kind is not None and node_text(kind).rsplit(".", 1)[-1] in LITERALS:
            self.facts.calls.append(GoCall(expr(node), node.start_point[0] + 1, symbol, (), outer))


def package_names(import_path: str) -> list[str]:
    """Names an unaliased import may be used under: Go code uses the package's declared name,
    which for ``go-redis/v9``, ``amqp091-go`` or ``nats.go`` is not the directory's."""
    name = package_name(import_path)
    short = re.sub(r"^go-|[-.]go$", "", name)
    return list(dict.fromkeys([name, short, re.sub(r"\d+$", "", short)]))
