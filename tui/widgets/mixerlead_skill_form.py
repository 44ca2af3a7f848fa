"""The variables form of a MixerLead skill.

The API lists skills without their variables (only id, name, category, description), so when the
server says nothing the form is a free `name: value` list and says plainly why; when a server does
send variables (tolerated, not documented) each gets its own field."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static, TextArea

from tui.api.mixerlead.models import Skill

UNKNOWN_VARIABLES = ("MixerLead does not say which variables this skill takes. Write one per line as "
                     "name: value (for example  product: Mixer); leave it empty to run without any.")
LINE = re.compile(r"^\s*([^:=]+?)\s*[:=]\s*(.*)$")


class FormError(ValueError):
    """A line of the free form could not be read; the message names it."""


def parse_free_form(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = LINE.match(line)
        if not match or not match.group(1).strip():
            raise FormError(f"Line {number} (“{line.strip()}”) is not `name: value`; nothing was sent.")
        values[match.group(1).strip()] = match.group(2).strip()
    return values


class SkillForm(Vertical):
    def __init__(self, skill: Skill, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="ml-skill-form")
        self.skill = skill

    def compose(self) -> ComposeResult:
        if self.skill.variables_known:
            for index, variable in enumerate(self.skill.variables):
                mark = " *" if variable.required else ""
                yield Static(f"{variable.label or variable.name}{mark}", classes="ml-var-label", markup=False)
                yield Input(value=variable.default, placeholder=variable.description or variable.name, id=f"ml-var-{index}")
        else:
            yield Static(UNKNOWN_VARIABLES, classes="ml-var-note", markup=False)
            yield TextArea(id="ml-vars-free", soft_wrap=True)

    def values(self) -> dict[str, str]:
        """The variables to send; raises FormError naming what is wrong."""
        if not self.skill.variables_known:
            return parse_free_form(self.query_one("#ml-vars-free", TextArea).text)
        values: dict[str, str] = {}
        missing: list[str] = []
        for index, variable in enumerate(self.skill.variables):
            value = self.query_one(f"#ml-var-{index}", Input).value.strip()
            if value:
                values[variable.name] = value
            elif variable.required:
                missing.append(variable.label or variable.name)
        if missing:
            raise FormError(f"Fill in {', '.join(missing)} first; nothing was sent.")
        return values

    def focus_first(self) -> None:
        fields = list(self.query(Input)) or list(self.query(TextArea))
        if fields:
            fields[0].focus()
