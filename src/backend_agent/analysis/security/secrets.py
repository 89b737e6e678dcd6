"""What names a secret, what looks like a real one, and which keys sign or encrypt."""

from __future__ import annotations

import re
from itertools import pairwise

_SECRET_LAST_WORDS = frozenset(
    {"secret", "password", "passwd", "pwd", "token", "apikey", "passphrase"}
)
_KEY_QUALIFIERS = frozenset(
    {"api", "secret", "private", "access", "signing", "encryption", "jwt", "session", "master"}
)
# Keys that sign or encrypt sessions, cookies, tokens and data: by their last two words
# (``SECRET_KEY``, ``secret_key_base``, ``sessionSecret``, ``JWT_SECRET``, ``cipher_key``).
_SIGNING_KEYS = frozenset(
    {
        ("secret", "key"), ("secret", "token"), ("session", "secret"), ("session", "key"),
        ("cookie", "secret"), ("cookie", "key"), ("jwt", "secret"), ("jwt", "key"),
        ("signing", "key"), ("signing", "secret"), ("encryption", "key"), ("cipher", "key"),
        ("crypto", "key"), ("hmac", "key"), ("hmac", "secret"), ("token", "secret"),
        ("app", "secret"), ("auth", "secret"),
    }
)  # fmt: skip
# Values that tutorials and generators put in those keys.
_WELL_KNOWN = re.compile(
    r"(?i)(keyboard cat|secret|s3cr3t|changeme|change[ _-]?me|change[ _-]?this|default|dev|"
    r"development|test|password|supersecret|super[ _-]?secret|my[ _-]?secret|your[ _-]?secret"
    r"([ _-]?key)?|secret[ _-]?key|mysecretkey|1234.*|abc.*|xxx+|todo|insecure.*|"
    r"django-insecure-.*|not[ _-]?so[ _-]?secret.*|shh+|ssh+)"
)
_MIN_KEY_LENGTH = 32
# Digests and password hashes (MD5/SHA hex, bcrypt, argon2, scrypt, PBKDF2, crypt).
_HASH = re.compile(
    r"[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128}|\$2[abxy]?\$\d\d\$[./\w]{53}"
    r"|\$(argon2\w*|scrypt|pbkdf2[-\w]*|[156])\$\S+"
)
_TOKEN_FORMATS = re.compile(
    r"(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|(?:sk|rk)_live_[A-Za-z0-9]{20,}"
    r"|AIza[0-9A-Za-z_\-]{35}"
    r"|-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----(?:[A-Za-z0-9+/=\s]|\\[rn]){64}"
)


def words(name: str) -> list[str]:
    """``jwtSecret`` -> ``["jwt", "secret"]``; ``SECRET_KEY_BASE`` -> ``["secret", "key",
    "base"]``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    return [p for p in re.split(r"[^a-z0-9]+", spaced) if p]


def _identifier(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z_$@][\w-]*", name) is not None


def secret_name(name: str) -> bool:
    """Whether an identifier names a secret: ``DB_PASSWORD``, ``jwtSecret``, ``api_key``."""
    if not _identifier(name):
        return False  # not an identifier: "AWS::IAM::AccessKey" is a type name
    parts = words(name)
    if parts[-1:] == ["base"]:  # Rails' secret_key_base
        parts = parts[:-1]
    if not parts:
        return False
    if parts[-1] in _SECRET_LAST_WORDS:
        return True
    return parts[-1] == "key" and len(parts) > 1 and parts[-2] in _KEY_QUALIFIERS


def signing_key_name(name: str) -> bool:
    """Whether an identifier names a key that signs or encrypts (``SECRET_KEY``,
    ``secret_key_base``, ``SECRET_KEY_HMAC``, ``session_secret``, ``jwtSecret``)."""
    if not _identifier(name):
        return False
    parts = words(name)
    return any(pair in _SIGNING_KEYS for pair in pairwise(parts))


def secret_value(name: str, value: str) -> bool:
    """Whether a literal given to a secret-named variable looks like a real secret.

    Not: placeholders, labels and sentences (``"Invalid password"``, ``"next_token"``,
    ``"X-Csrf-Token"``), nor values that repeat the name's own word (``"nextToken"`` for an
    ``input_token``, ``"password"`` for ``PASSWORD``): those name a field, they do not fill it.
    """
    if len(value) < 4 or any(ch.isspace() for ch in value) or len(set(value)) < 3:
        return False
    if _HASH.fullmatch(value) and words(name)[-1:] in (["password"], ["passwd"], ["pwd"]):
        return False  # a stored password hash, not the password
    if placeholder(value) or re.fullmatch(r"[A-Z][A-Z0-9_]*|[a-z]+(_[a-z]+)+", value):
        return False  # a template, or the name of a variable or field
    if re.fullmatch(r"[A-Z][a-z0-9]*(-[A-Z][a-z0-9]*)+", value):
        return False  # a header name
    parts = words(name)
    return not (parts and parts[-1] in value.lower() and not any(c.isdigit() for c in value))


def placeholder(value: str) -> bool:
    """An empty value or a template to fill in (``${SECRET}``, ``<your key>``, ``%(key)s``)."""
    stripped = value.strip()
    return not stripped or stripped[0] in "$<{%" or stripped.startswith("{{")


def weak_key(value: str) -> str | None:
    """Why a literal signing or encryption key is weak beyond being in the source: a value from
    tutorials (``keyboard cat``, ``changeme``) or shorter than 32 characters."""
    if _WELL_KNOWN.fullmatch(value.strip()):
        return "a well-known default value"
    if len(value) < _MIN_KEY_LENGTH:
        return f"only {len(value)} characters long"
    return None


def classify(name: str, value: str, signing: bool = False) -> tuple[str, str] | None:
    """The rule and message for a literal ``value`` given to ``name``: a credential-shaped
    value, a signing key (``signing`` when the position says so, as in ``cookieParser(k)``),
    another secret (unless a placeholder or a label), or nothing."""
    if placeholder(value):
        return None
    if token_format(value):
        return "hardcoded-secret.token-format", f"{name} has the format of a real credential"
    if signing or signing_key_name(name):
        reason = weak_key(value)
        return "weak-secret", f"{name} is a literal key" + (f", {reason}" if reason else "")
    if secret_name(name) and secret_value(name, value):
        return "hardcoded-secret", f"{name} is set to a literal secret"
    return None


def token_format(value: str) -> bool:
    """Whether a literal has the shape of a real credential from a known provider."""
    return _TOKEN_FORMATS.search(value) is not None
