"""The catalog of security rules: stable ids, default severity, what they mean and the fix."""

from __future__ import annotations

from dataclasses import dataclass

from backend_agent.analysis.findings import Severity


@dataclass(frozen=True)
class Rule:
    """One security rule; ``id`` is the category, with an optional finer id after a dot."""

    id: str
    severity: Severity
    title: str  # one line: what the rule detects
    fix: str  # one line: how to fix what it found


_CATALOG = (
    Rule(
        "sql-injection",
        Severity.HIGH,
        "SQL built from strings (f-string, %, format, concatenation, interpolation) is executed",
        "Pass values as bound parameters (placeholders such as %s, ?, $1, :name) instead of "
        "building the SQL text.",
    ),
    Rule(
        "nosql-injection.where",
        Severity.HIGH,
        "A MongoDB $where clause is built from non-constant data",
        "Replace $where with query operators ($eq, $in, ...); never evaluate JavaScript built "
        "from input.",
    ),
    Rule(
        "nosql-injection.operator",
        Severity.HIGH,
        "Request data goes unchecked into a MongoDB filter (operator injection such as $ne)",
        "Cast each value to the expected scalar type (String(x), str(x)) or validate the body "
        "with a schema before building the filter.",
    ),
    Rule(
        "hardcoded-secret",
        Severity.HIGH,
        "A password, key or token is written as a literal in the source",
        "Read the secret from the environment or a secret manager, and rotate the exposed value.",
    ),
    Rule(
        "hardcoded-secret.token-format",
        Severity.CRITICAL,
        "A string has the format of a real credential (AWS, GitHub, Slack, Stripe, Google, "
        "private key)",
        "Revoke the credential now, remove it from the history, and load it from a secret store.",
    ),
    Rule(
        "hardcoded-secret.env-fallback",
        Severity.HIGH,
        "A secret read from the environment falls back to a literal value",
        "Fail at start-up when the variable is missing instead of falling back to a known value.",
    ),
    Rule(
        "jwt-misuse.no-algorithms",
        Severity.HIGH,
        "A JWT is verified without restricting the accepted algorithms",
        "Pass the expected algorithm list (e.g. algorithms=['HS256']) when verifying tokens.",
    ),
    Rule(
        "jwt-misuse.none-algorithm",
        Severity.CRITICAL,
        "The 'none' JWT algorithm is accepted or used",
        "Never accept or sign with 'none'; allow only the signing algorithm you use.",
    ),
    Rule(
        "jwt-misuse.verify-disabled",
        Severity.CRITICAL,
        "A JWT is decoded with signature verification turned off",
        "Verify the signature; decode without verification only for tokens you do not trust.",
    ),
    Rule(
        "jwt-misuse.literal-key",
        Severity.HIGH,
        "A JWT is signed or verified with a literal key",
        "Load the signing key from configuration or a secret store and rotate the literal one.",
    ),
    Rule(
        "jwt-misuse.ignore-expiration",
        Severity.MEDIUM,
        "JWT expiry is not checked",
        "Keep expiry verification on and give tokens a short lifetime.",
    ),
    Rule(
        "weak-secret",
        Severity.HIGH,
        "A key that signs or encrypts sessions, cookies, tokens or data is a literal in the "
        "source (a known default, or short, is weaker still)",
        "Generate a random key of at least 32 bytes, load it from the environment or a secret "
        "manager, and rotate the exposed one (sessions signed with it can be forged).",
    ),
    Rule(
        "missing-auth",
        Severity.HIGH,
        "A state-changing endpoint (POST/PUT/PATCH/DELETE) has no authentication",
        "Require authentication on the route (middleware, decorator, guard or before_action), "
        "or document why it is public.",
    ),
    Rule(
        "missing-rate-limit",
        Severity.MEDIUM,
        "The HTTP application has no rate limiting at all",
        "Add a rate limiter (express-rate-limit, @fastify/rate-limit, Flask-Limiter, slowapi, "
        "DRF throttling, x/time/rate, rack-attack).",
    ),
    Rule(
        "missing-rate-limit.auth-endpoint",
        Severity.MEDIUM,
        "A login, sign-up, password-reset or token endpoint has no rate limiting "
        "(brute force, credential stuffing)",
        "Put a limiter on the route (a per-route limiter, or a global one that covers it), keyed "
        "by client address and account.",
    ),
    Rule(
        "missing-security-headers",
        Severity.MEDIUM,
        "The HTTP application sets no security headers",
        "Add helmet (or @fastify/helmet, koa-helmet), Talisman, Django's SecurityMiddleware, "
        "unrolled/secure or gin-contrib/secure, secure_headers.",
    ),
    Rule(
        "missing-csrf",
        Severity.HIGH,
        "Cookie sessions are used without CSRF protection",
        "Enable the framework's CSRF protection (CsrfViewMiddleware, Flask-WTF CSRFProtect, "
        "csrf-csrf, gorilla/csrf, protect_from_forgery) for cookie-authenticated requests.",
    ),
    Rule(
        "cors",
        Severity.HIGH,
        "CORS allows any origin together with credentials",
        "List the allowed origins explicitly when credentials are allowed.",
    ),
    Rule(
        "debug-mode",
        Severity.MEDIUM,
        "Debug mode is on in application code or production settings",
        "Turn debug off by default and enable it only from a development-only setting.",
    ),
    Rule(
        "command-injection",
        Severity.CRITICAL,
        "A shell command is built from non-constant data",
        "Run the program with an argument list and no shell (subprocess.run([...]), execFile, "
        "exec.Command(name, args...), system(cmd, arg)), and validate the arguments.",
    ),
    Rule(
        "code-injection",
        Severity.CRITICAL,
        "Code or a template built from request data is evaluated (eval, Function, vm, exec, "
        "instance_eval, send, template parsing)",
        "Never evaluate request data: map the input to a fixed set of operations, parse it as "
        "data (JSON, numbers), or render a fixed template with the data as its variables.",
    ),
    Rule(
        "insecure-deserialization",
        Severity.CRITICAL,
        "Data from the request (or any YAML without a safe loader) is deserialized by a format "
        "that can build arbitrary objects (pickle, Marshal, node-serialize, gob, unsafe YAML)",
        "Accept JSON (or yaml.safe_load / YAML.safe_load) and validate it; never unpickle or "
        "Marshal.load data a client can send.",
    ),
    Rule(
        "open-redirect",
        Severity.MEDIUM,
        "A redirect goes to a URL taken from the request",
        "Redirect only to relative paths or to hosts on an allow-list.",
    ),
    Rule(
        "ssrf",
        Severity.HIGH,
        "An outgoing HTTP request goes to a URL taken from the request",
        "Check the URL's scheme and host against an allow-list before fetching it, and block "
        "private address ranges.",
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _CATALOG}

# Categories whose findings need data from a request: meaningless in build and task scripts.
REQUEST_DATA_RULES = frozenset(
    {
        "sql-injection", "nosql-injection", "command-injection", "code-injection",
        "insecure-deserialization", "open-redirect", "ssrf",
    }
)  # fmt: skip
