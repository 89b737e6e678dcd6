"""Where request data must not go: the sinks of every injection-like rule, per language.

One ``Sink`` says: a call whose callee matches ``callee``, whose ``argument`` holds data of
kind ``data``, is a finding of ``rule``. Kinds: ``tainted`` (request data), ``built`` (a string
built from non-literal parts), ``either``, ``built-sql`` (built, and the text looks like SQL)
and ``any`` (whatever it holds: the call itself is the problem).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from backend_agent.analysis.security.syntax import Call

Data = Literal["tainted", "built", "either", "built-sql", "any"]
Where = int | str  # a position (negative from the end), an option name, "receiver" or "*"


@dataclass(frozen=True)
class Sink:
    """A call that must not receive request data (or built strings) at one argument."""

    rule: str
    callee: re.Pattern[str]  # full match on the callee with whitespace removed
    where: tuple[Where, ...]  # the first of these the call has; "*" is every argument
    data: Data
    when: Callable[[Call], bool] | None = None  # a further condition on the call
    client: bool = False  # the receiver must be an HTTP client object


def sink(
    rule: str,
    callee: str,
    *where: Where,
    data: Data = "tainted",
    when: Callable[[Call], bool] | None = None,
    client: bool = False,
) -> Sink:
    return Sink(rule, re.compile(callee), where or (0,), data, when, client)


def methods(*names: str) -> str:
    """A callee pattern for these method names on any receiver, or none."""
    return r"(?:.+\.)?(?:" + "|".join(names) + ")"


def on_receiver(*names: str) -> str:
    """A callee pattern for these method names on some receiver."""
    return r".+\.(?:" + "|".join(names) + ")"


SQL_TEXT = re.compile(
    r"\b(select\s.*\bfrom|insert\s+into|update\s+\S+\s+set|delete\s+from|where|order\s+by|"
    r"values|create\s+table|drop\s+table)\b",
    re.IGNORECASE | re.DOTALL,
)
MESSAGES = {
    "sql-injection": "{callee}() runs SQL built from a string",
    "sql-injection.tainted": "{callee}() runs SQL text taken from the request",
    "command-injection": "{callee}() runs a shell command built from data",
    "code-injection": "{callee}() evaluates code or a template built from non-literal parts",
    "code-injection.tainted": "{callee}() evaluates code or a template taken from the request",
    "insecure-deserialization": "{callee}() deserializes data taken from the request",
    "insecure-deserialization.any": "{callee}() can build arbitrary objects (no safe loader)",
    "ssrf": "{callee}() fetches a URL taken from the request",
    "open-redirect": "{callee}() redirects to a URL from the request",
}
_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
_SAFE_YAML = re.compile(r"(yaml\.)?(C?SafeLoader|BaseLoader)")


def _unsafe_yaml_loader(call: Call) -> bool:
    loader = call.argument(1, "Loader")
    return loader is None or not _SAFE_YAML.fullmatch(re.sub(r"\s", "", _text(loader)))


def _option_true(name: str) -> Callable[[Call], bool]:
    return lambda call: name in call.options and _text(call.options[name]) in ("True", "true")


def _shell_dash_c(first: int) -> Callable[[Call], bool]:
    """``exec.Command("sh", "-c", cmd)``: a shell and ``-c`` before the command."""
    shells = re.compile(r"[\"'`](/bin/|/usr/bin/)?(sh|bash|zsh|env)[\"'`]")

    def check(call: Call) -> bool:
        args = [_text(a) for a in call.args[first : first + 2]]
        return len(args) == 2 and bool(shells.fullmatch(args[0])) and args[1] in ('"-c"', "`-c`")

    return check


def _verb_first(call: Call) -> bool:
    """``needle('get', url)``, ``superagent('GET', url)``: the method comes first."""
    first = _text(call.args[0]).strip("'\"`").lower() if call.args else ""
    return first in _HTTP_VERBS


def _not_http_request(call: Call) -> bool:
    """``superagent.get(url).query(params)`` adds a query string, not SQL."""
    return not re.match(r"(superagent|request|got|needle|supertest|agent)\b", call.receiver)


def _not_statement(call: Call) -> bool:
    """``stmt.QueryRow(uid)`` runs a prepared statement: its arguments are bound values."""
    return re.search(r"(?i)stmt|statement|prepare", call.receiver) is None


def _database_receiver(call: Call) -> bool:
    """GORM clauses share names with routers (``Group``): the receiver must be a database."""
    return re.search(r"(?i)db|tx|gorm|orm|conn|Model\(|Table\(", call.receiver) is not None


def _text(node: object) -> str:
    raw = getattr(node, "text", None)
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""


PYTHON = (
    sink("sql-injection", r"(sqlalchemy\.|sa\.)?text|(.+\.)?RawSQL", data="built"),
    sink("sql-injection", methods("execute", "executemany", "executescript", "raw", "text",
         "exec_driver_sql", "RawSQL"), data="built-sql"),
    sink("sql-injection", methods("execute", "executemany", "executescript", "raw", "text",
         "exec_driver_sql", "RawSQL")),
    sink("command-injection", r"(os\.)?(system|popen)|subprocess\.(getoutput|getstatusoutput)",
         data="either"),
    sink("command-injection", r"(subprocess\.)?(run|call|check_call|check_output|Popen)",
         data="either", when=_option_true("shell")),
    sink("code-injection", r"(builtins\.)?(eval|exec)|(flask\.)?render_template_string"
         r"|(jinja2\.)?Template|.+\.from_string|(PIL\.)?ImageMath\.(eval|unsafe_eval)",
         data="either"),
    sink("insecure-deserialization", r"(pickle|cPickle|_pickle|dill|marshal|shelve|jsonpickle"
         r"|cloudpickle)\.(loads?|Unpickler|decode|open)|(pandas\.|pd\.)?read_pickle"),
    sink("insecure-deserialization", r"yaml\.(load|load_all)", data="any",
         when=_unsafe_yaml_loader),
    sink("insecure-deserialization", r"yaml\.(unsafe_load|unsafe_load_all)", data="any"),
    sink("open-redirect", methods("redirect", "RedirectResponse", "HttpResponseRedirect",
         "HttpResponsePermanentRedirect"), 0, "url"),
    sink("ssrf", r"(requests|httpx)\.(" + "|".join(_HTTP_VERBS) + ")", 0, "url"),
    sink("ssrf", r"(requests|httpx|aiohttp|urllib3)\.(request|stream)", 1, "url"),
    sink("ssrf", r"(urllib\.request\.|request\.|urllib2\.)?(urlopen|Request)", 0, "url"),
    sink("ssrf", on_receiver(*_HTTP_VERBS), 0, "url", client=True),
    sink("ssrf", on_receiver("request", "stream", "urlopen"), 1, "url", client=True),
)  # fmt: skip
PYTHON_CLIENTS = re.compile(
    r"(requests\.Session|httpx\.(Async)?Client|(aiohttp\.)?ClientSession|(urllib3\.)?PoolManager"
    r"|urllib3\.ProxyManager)\("
)

JAVASCRIPT = (
    sink("sql-injection", methods("query", "execute", "raw", "whereRaw", "orWhereRaw",
         "havingRaw", r"\$queryRawUnsafe", r"\$executeRawUnsafe", "exec", "run", "all",
         "prepare", "unsafe", "one", "many", "any", "none", "oneOrNone", "manyOrNone", "multi",
         "result"), data="built-sql"),
    sink("sql-injection", methods("query", "execute", "raw", "whereRaw", r"\$queryRawUnsafe",
         r"\$executeRawUnsafe", "unsafe"), when=_not_http_request),
    sink("command-injection", r"((child_process|childProcess|cp)\.)?(exec|execSync)",
         data="either"),
    sink("command-injection", r"((child_process|childProcess|cp)\.)?(spawn|spawnSync|execFile"
         r"|execFileSync)", data="either", when=_option_true("shell")),
    sink("code-injection", r"eval|(global\.|window\.)?(setTimeout|setInterval)|safeEval"
         r"|vm\.(runInNewContext|runInThisContext|runInContext|compileFunction)|(vm\.)?Script",
         data="either"),
    sink("code-injection", r"Function", "*", data="either"),
    sink("code-injection", r"(ejs|pug|jade|handlebars|Handlebars|hbs|_|lodash|nunjucks|doT|dot"
         r"|mustache|Mustache|swig|twig)\.(render|compile|template|renderString|compileString)",
         data="either"),
    sink("insecure-deserialization", methods("unserialize", "deepDeserialize")
         + r"|(yaml|jsyaml|jsYaml|YAML)\.load|cryo\.parse"),
    sink("open-redirect", r"(res|response|ctx|reply|ctx\.response)\.redirect", -1),
    sink("ssrf", r"fetch|axios|got|needle|request|superagent|bent|ky|phin|(undici|nodeFetch)"
         r"\.(request|fetch|stream)"),
    sink("ssrf", r"needle|superagent|needle\.request", 1, when=_verb_first),
    sink("ssrf", r"(axios|got|needle|superagent|request|http|https|undici|ky|wreck|Wreck)\.("
         + "|".join(_HTTP_VERBS) + r"|request|stream|fetch)"),
    sink("ssrf", on_receiver(*_HTTP_VERBS, "request"), 0, client=True),
)  # fmt: skip
JAVASCRIPT_CLIENTS = re.compile(r"(axios\.create|got\.extend|superagent\.agent)\(")

GO = (
    sink("sql-injection", methods("Where", "Or", "Not", "Order", "Group", "Having", "Joins"),
         data="built", when=_database_receiver),
    sink("sql-injection", methods("Exec", "Query", "QueryRow", "Prepare", "Raw", "MustExec",
         "Queryx", "QueryRowx"), data="built-sql", when=_not_statement),
    sink("sql-injection", methods("ExecContext", "QueryContext", "QueryRowContext",
         "PrepareContext", "MustExecContext", "QueryxContext", "QueryRowxContext", "Get",
         "Select"), 1, data="built-sql"),
    sink("sql-injection", methods("GetContext", "SelectContext"), 2, data="built-sql"),
    sink("sql-injection", methods("Exec", "Query", "QueryRow", "Raw"), when=_not_statement),
    sink("sql-injection", methods("ExecContext", "QueryContext", "QueryRowContext"), 1,
         when=_not_statement),
    sink("command-injection", r"exec\.Command", 2, data="either", when=_shell_dash_c(0)),
    sink("command-injection", r"exec\.CommandContext", 3, data="either", when=_shell_dash_c(1)),
    sink("code-injection", r"template\.New\(.*\)(\..+)?\.Parse"
         + r"|" + methods("RunString", "RunScript", "Eval"), data="either"),
    sink("insecure-deserialization", r"gob\.NewDecoder"),
    sink("open-redirect", methods("Redirect"), "*"),
    sink("ssrf", r"http\.(Get|Post|Head|PostForm)|http\.DefaultClient\.(Get|Post|Head|PostForm)"),
    sink("ssrf", r"http\.NewRequest", 1),
    sink("ssrf", r"http\.NewRequestWithContext", 2),
    sink("ssrf", r".+\.R\(\)(\..+)?\.(Get|Post|Put|Patch|Delete|Head|Options)"),
    sink("ssrf", r".+\.R\(\)(\..+)?\.Execute", 1),
    sink("ssrf", on_receiver("Get", "Post", "Put", "Patch", "Delete", "Head", "PostForm"),
         client=True),
)  # fmt: skip
GO_CLIENTS = re.compile(r"(&?http\.Client\{|resty\.New\(|.+\.R\(\)$)")

_RUBY_QUERY = ("where", "order", "reorder", "select", "joins", "group", "having", "from",
               "pluck", r"exists\?", "delete_all", "update_all", "count_by_sql", "not",
               "find_by_sql")  # fmt: skip
RUBY = (
    sink("sql-injection", on_receiver(*_RUBY_QUERY), data="built"),
    sink("sql-injection", methods("execute", "exec_query", "select_all", "select_value",
         "select_rows"), data="built-sql"),
    sink("sql-injection", on_receiver("find_by_sql", "order", "reorder", "pluck", "group",
         "select", "from", "joins", "having", "execute", "exec_query", "select_all",
         "select_value", "select_rows")),
    sink("command-injection", r"system|exec|spawn|open", data="either",
         when=lambda call: len(call.args) == 1),
    sink("command-injection", r"Open3\.(capture2e?|capture3|popen2e?|popen3|pipeline\w*)"
         r"|IO\.popen|Kernel\.(system|exec|spawn)", data="either"),
    sink("code-injection", methods("eval", "instance_eval", "class_eval", "module_eval",
         "instance_exec", "send", "public_send", "__send__", "const_get")),
    sink("code-injection", r"ERB\.new", data="either"),
    sink("code-injection", on_receiver("constantize", "safe_constantize"), "receiver"),
    sink("code-injection", r"render", "inline"),
    sink("insecure-deserialization", r"Marshal\.(load|restore)|(YAML|Psych)\.(load|unsafe_load"
         r"|load_documents|load_stream|object_load)|Oj\.(load|object_load)|JSON\.load"),
    sink("open-redirect", r"redirect_to|redirect"),
    sink("ssrf", r"Net::HTTP\.(get|get_response|get_print|post|post_form|start|new)|URI\.open"
         r"|Kernel\.open|RestClient::Request\.execute|(HTTParty|Faraday|RestClient|HTTP|Excon|Typhoeus|HTTPX|HTTPClient)\.("
         + "|".join(_HTTP_VERBS) + r"|request|new|execute)", 0, "url"),
    sink("ssrf", r".*URI(\.parse)?\(.*\)\.(open|read)", "receiver"),
    sink("ssrf", on_receiver(*_HTTP_VERBS), 0, client=True),
)  # fmt: skip
RUBY_CLIENTS = re.compile(r"(Faraday\.new|HTTPClient\.new|Net::HTTP\.new|HTTP\.persistent)\b")

# Calls whose argument at a position is a signing or encryption key: a literal there is weak.
KEY_ARGUMENTS = {
    "python": (
        (re.compile(r"(fernet\.)?Fernet|(AES|DES3?|Blowfish|ARC4|ChaCha20)\.new|hmac\.(new|digest)"
                    r"|(itsdangerous\.)?(URLSafe)?(Timed)?(Serializer|Signer)"
                    r"|(aiohttp_session\.)?(cookie_storage\.)?EncryptedCookieStorage"), 0),
    ),
    "javascript": (
        (re.compile(r"cookieParser|cookie-parser"), 0),
        (re.compile(r"crypto\.(createHmac|createCipheriv|createDecipheriv|createCipher"
                    r"|createDecipher)|CryptoJS\.(AES|DES|TripleDES|Rabbit|RC4)\.(encrypt|decrypt)"
                    r"|CryptoJS\.Hmac\w+"), 1),
    ),
    "go": (
        (re.compile(r"sessions\.NewCookieStore|cookie\.NewStore|securecookie\.New|aes\.NewCipher"
                    r"|csrf\.Protect|memstore\.NewStore"), 0),
        (re.compile(r"hmac\.New|sessions\.NewFilesystemStore|jwtauth\.New"), 1),
    ),
    "ruby": (
        (re.compile(r"ActiveSupport::(MessageEncryptor|MessageVerifier|KeyGenerator)\.new"), 0),
        (re.compile(r"OpenSSL::HMAC\.(hexdigest|digest|base64digest)"), 1),
    ),
}  # fmt: skip
# Calls that take a MongoDB filter first (Go: after the context, see golang.py).
MONGO_METHODS = {
    "python": re.compile(
        r".+\.(find|find_one|find_one_and_update|find_one_and_delete|find_one_and_replace|"
        r"update_one|update_many|delete_one|delete_many|count_documents|replace_one)"
    ),
    "javascript": re.compile(
        r"(?:.+\.)?(find|findOne|findOneAndUpdate|findOneAndDelete|findOneAndReplace|updateOne|"
        r"updateMany|deleteOne|deleteMany|countDocuments|replaceOne)"
        r"|(.*[Cc]ollection\w*|.*\.collection\(.*\))\.(update|remove|count|findAndModify)"
    ),
    "go": re.compile(
        r"(?:.+\.)?(Find|FindOne|FindOneAndUpdate|FindOneAndDelete|FindOneAndReplace|UpdateOne|"
        r"UpdateMany|DeleteOne|DeleteMany|CountDocuments|ReplaceOne|Distinct)"
    ),
    "ruby": re.compile(
        r".+\.(where|find_by|find_by!|any_of|all_of|none_of|nor|find_one_and_update|"
        r"find_one_and_delete|find_one_and_replace|update_one|update_many|delete_one|"
        r"delete_many|count_documents|replace_one)|.*(\[:\w+\]|collection)\.find"
    ),
}
# Reading the environment: calls taking (variable, fallback), and ``X || 'fallback'``.
ENV_READS = {
    "python": re.compile(
        r"os\.environ\.get|os\.getenv|environ\.get|getenv|os\.environ\.setdefault|config"
    ),
    "go": re.compile(r"(?:.+\.)?(?i:(get)?env(or|default|ordefault|withdefault)?|getenv\w*)"),
    "ruby": re.compile(r"ENV\.fetch"),
}
ENV_EXPRESSIONS = {
    "javascript": re.compile(r"process\.env(?:\.(\w+)|\[['\"](\w+)['\"]\])"),
    "ruby": re.compile(r"ENV\[['\"](\w+)['\"]\]"),
}
# printf-like calls: the format first, the values after it (Python's .format is its own).
FORMAT_CALLS = {
    "javascript": re.compile(r"util\.format"),
    "go": re.compile(r"fmt\.Sprintf"),
    "ruby": re.compile(r"(Kernel\.)?(format|sprintf)"),
}
SINKS = {"python": PYTHON, "javascript": JAVASCRIPT, "go": GO, "ruby": RUBY}
CLIENTS = {
    "python": PYTHON_CLIENTS,
    "javascript": JAVASCRIPT_CLIENTS,
    "go": GO_CLIENTS,
    "ruby": RUBY_CLIENTS,
}
