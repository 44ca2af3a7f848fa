"""Turn a plain-English request into one thing the offline agent can do. Deterministic, generous:
polite wrappers are dropped, paths and quoted text are picked out, anything unclear is `help`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_POLITE = re.compile(
    r"^(?:(?:please|pls|hey|hi|ok(?:ay)?|now|so|then)[,!]?\s+|(?:can|could|would|will) you\s+(?:please\s+)?|"
    r"i(?:'d| would) like you to\s+|i want you to\s+|i need you to\s+|let's\s+|go and\s+)+", re.I)
_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.S)
_FENCE = re.compile(r"```[^\n`]*\n(.*?)\n?```", re.S)

PATH = r"(?P<path>\"[^\"]+\"|'[^']+'|`[^`]+`|[\w~./\\-]*[\w/])"
QUOTED = r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`)"


@dataclass
class Intent:
    kind: str  # list | glob | read | search | write | edit | run | ask | plan | proceed | help
    args: dict = field(default_factory=dict)
    text: str = ""  # the request as understood (polite wrappers removed)

    @property
    def changes_things(self) -> bool:
        return self.kind in ("write", "edit", "run")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
        inner = value[1:-1]
        return inner.replace('\\"', '"').replace("\\'", "'") if value[0] != "`" else inner
    return value


def _looks_like_file(path: str) -> bool:
    return "." in path.strip("./") or "/" in path


def clean_request(text: str) -> str:
    text = _REMINDER.sub("", text).strip()
    previous = None
    while previous != text:
        previous = text
        text = _POLITE.sub("", text).strip()
    return text


def _strip_end(text: str) -> str:
    return text.rstrip().rstrip("?!.").rstrip()


def _ask(line: str) -> dict | None:
    """"ask me to choose between a, b or c" (choice), "ask me to confirm X" (yes/no), "ask me X" (text)."""
    m = re.match(r"^ask me\s+(?P<rest>.+)$", line, re.I)
    if not m:
        return None
    rest = m.group("rest").strip()
    pick = re.match(r"^to (?:choose|pick|select)\s+(?:between|from|one of)?\s*(?P<options>.+)$", rest, re.I)
    if pick:
        options = [_unquote(o) for o in re.split(r"\s*,\s*|\s+(?:or|and)\s+", pick.group("options")) if o.strip()]
        if len(options) >= 2:
            return {"response_type": "choice", "choices": options, "question": f"Which one: {', '.join(options)}?"}
    confirm = re.match(r"^to (?:confirm|approve)\s+(?P<what>.+)$", rest, re.I)
    if confirm:
        return {"response_type": "choice", "choices": ["Yes", "No"], "question": f"Do you confirm {confirm.group('what')}?"}
    question = re.sub(r"^(?:for|about)\s+", "", rest, flags=re.I)
    return {"response_type": "text", "choices": [], "question": question[0].upper() + question[1:] + "?"}


def parse_request(raw: str) -> Intent:
    text = clean_request(raw)
    fence = _FENCE.search(text)
    head = text[: fence.start()].strip() if fence else text  # the words around a fenced block
    line = _strip_end(head.splitlines()[0] if head else "")
    low = line.lower()

    # --- planning
    m = re.match(r"^(?:(?:make|create|write|draft|give me)\s+(?:a|me a)?\s*)?plan(?:\s+(?:out|for|to|how to|of))?\s*:?\s+(?P<task>.+)$",
                 text, re.I | re.S)
    if m and not re.match(r"^plan\.\w+", text, re.I):
        return Intent("plan", {"task": m.group("task").strip()}, text)

    # --- asking the user something (a `notification` the user answers)
    asked = _ask(line)
    if asked is not None:
        return Intent("ask", asked, text)

    # --- proceeding with a plan (only meaningful when one was made; the agent checks)
    if re.match(r"^(?:proceed|go ahead|go for it|do it|yes|yep|continue|carry on|execute (?:the|this|that) plan|"
                r"implement (?:the|this|that) plan|carry out (?:the|this|that) plan|start)\b", low):
        return Intent("proceed", {}, text)

    # --- running a command
    m = re.match(r"^(?:run|execute|exec)\s+(?:the\s+)?(?:shell\s+)?(?:command\s+)?(?P<cmd>.+)$", head, re.I | re.S)
    if m:
        cmd = m.group("cmd").strip()
        tick = re.search(r"`([^`]+)`", cmd)
        cmd = tick.group(1) if tick else _unquote(cmd)
        if cmd:
            return Intent("run", {"command": cmd.strip()}, text)
    m = re.fullmatch(r"`([^`]+)`", head.strip())
    if m:
        return Intent("run", {"command": m.group(1).strip()}, text)

    # --- editing
    edit_forms = [
        rf"^(?:in|inside)\s+(?:the\s+)?(?:file\s+)?{PATH},?\s+(?P<verb>replace all|replace|change|substitute)\s+(?P<old>{QUOTED}|\S+)\s+(?:with|by|to|into|for)\s+(?P<new>{QUOTED}|\S+)$",
        rf"^(?P<verb>replace all|replace|change|substitute)\s+(?P<old>{QUOTED}|\S+)\s+(?:with|by|to|into|for)\s+(?P<new>{QUOTED}|\S+)\s+(?:in|inside)\s+(?:the\s+)?(?:file\s+)?{PATH}$",
        rf"^edit\s+(?:the\s+)?(?:file\s+)?{PATH}\s*[:,]?\s*(?P<verb>replace all|replace|change)\s+(?P<old>{QUOTED}|\S+)\s+(?:with|by|to|into)\s+(?P<new>{QUOTED}|\S+)$",
    ]
    for form in edit_forms:
        m = re.match(form, line, re.I)
        if m:
            return Intent("edit", {"file_path": _unquote(m.group("path")), "old_string": _unquote(m.group("old")),
                                   "new_string": _unquote(m.group("new")),
                                   "replace_all": m.group("verb").lower() == "replace all" or " all " in f" {low} "}, text)

    # --- writing
    m = re.match(rf"^(?:create|write|make|save|add|generate)\s+(?:a\s+|the\s+|an\s+)?(?:new\s+)?(?:text\s+)?(?:file\s+)?"
                 rf"(?:called\s+|named\s+)?{PATH}(?P<rest>.*)$", head, re.I | re.S)
    if m and (_looks_like_file(_unquote(m.group("path"))) or re.search(r"\bfile\b", head[: m.start("path")], re.I)):
        rest = m.group("rest").strip()
        content = None
        if fence:
            content = fence.group(1)
        else:
            c = re.match(r"^(?:with|containing|that says|saying|reading|holding)(?:\s+(?:the\s+)?(?:content|contents|text))?\s*:?\s*(?P<c>.+)$",
                         rest, re.I | re.S)
            if c:
                content = _unquote(c.group("c").strip())
        if content is None and rest and not fence:
            content = None  # words we do not understand after the name: create it empty
        text_content = content if content is not None else ""
        if text_content and not text_content.endswith("\n"):
            text_content += "\n"
        return Intent("write", {"file_path": _unquote(m.group("path")), "content": text_content}, text)
    m = re.match(rf"^(?:write|put|save|add)\s+(?P<c>{QUOTED})\s+(?:to|in|into)\s+(?:a\s+|the\s+)?(?:new\s+)?(?:file\s+)?{PATH}$", line, re.I)
    if m:
        content = _unquote(m.group("c"))
        return Intent("write", {"file_path": _unquote(m.group("path")), "content": content + "\n"}, text)

    # --- searching
    m = re.match(rf"^(?:search|grep|find|look|look up)\s+(?:for\s+)?(?:the\s+)?(?:(?P<mode>text|word|string|pattern|regex|regexp)\s+)?"
                 rf"(?P<q>{QUOTED}|\S+)(?:\s+(?:in|inside|under)\s+(?:the\s+)?(?:file\s+|folder\s+)?{PATH})?$", line, re.I)
    if not m:
        m = re.match(rf"^(?:which|what) files (?:contain|mention|have)\s+(?P<mode>)(?P<q>{QUOTED}|\S+)(?:\s+(?:in|under)\s+{PATH})?$", line, re.I)
    if m:
        query = _unquote(m.group("q"))
        path = _unquote(m.group("path")) if m.group("path") else ""
        mode = (m.group("mode") or "").lower()
        if query.lower() in ("files", "file", "all", "everything"):
            pass  # "find files …" is a listing, handled below
        elif "*" in query or "?" in query and not mode:
            return Intent("glob", {"pattern": query, "path": path}, text)
        else:
            regex = mode in ("regex", "regexp", "pattern") or (len(query) > 2 and query.startswith("/") and query.endswith("/"))
            if regex and query.startswith("/") and query.endswith("/"):
                query = query[1:-1]
            return Intent("search", {"pattern": query, "path": path, "regex": regex}, text)

    # --- listing
    m = re.match(rf"^(?:ls|dir|tree)(?:\s+-\w+)*(?:\s+{PATH})?$", line, re.I)
    if m:
        return Intent("list", {"path": _unquote(m.group("path")) if m.group("path") else ""}, text)
    m = re.match(rf"^(?:list|show|display|find|see|what are)(?:\s+(?:me|all|the|my|of|your))*\s+(?:files|folders?|directory|dir|contents|entries)"
                 rf"(?:\s+(?:in|of|under|inside)\s+(?:the\s+)?(?:folder\s+|directory\s+)?{PATH})?$", line, re.I)
    if m:
        path = _unquote(m.group("path")) if m.group("path") else ""
        if path.lower() in ("folder", "directory", "session", "workspace", "here"):
            path = ""
        return Intent("list", {"path": path}, text)
    if re.match(r"^(?:what|which)(?:'s| is| are)?\s+(?:the\s+)?(?:files?|in (?:the|this|my) (?:folder|directory|workspace))\b", low) \
            or re.match(r"^(?:what|which) files\b", low) or low in ("list", "files", "show files", "what's here", "what is here"):
        return Intent("list", {"path": ""}, text)

    # --- reading
    m = re.match(rf"^(?:read|show|cat|open|view|display|print|dump)\s+(?:me\s+)?(?:the\s+)?(?:contents?\s+of\s+)?(?:the\s+)?(?:file\s+)?{PATH}$",
                 line, re.I)
    if not m:
        m = re.match(rf"^what(?:'s| is) in\s+(?:the\s+)?(?:file\s+)?{PATH}$", line, re.I)
    if not m:
        m = re.match(rf"^what does\s+{PATH}\s+say$", line, re.I)
    if m and _looks_like_file(_unquote(m.group("path"))):
        return Intent("read", {"file_path": _unquote(m.group("path"))}, text)
    if m and re.match(r"^(?:read|cat|open|view)\b", low):
        return Intent("read", {"file_path": _unquote(m.group("path"))}, text)

    return Intent("help", {}, text)
