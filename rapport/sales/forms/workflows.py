"""Forms of the workflow pages: registering a communication on an account's pane, and the administrators'
settings of pipeline stages and workflow definitions (a workflow's tree is edited as an indented outline).

They turn what a person types into what the services take; the services do the writing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rapport.activities.models import ActivityKind, ActivityType
from rapport.activities.recurrence import local_datetime
from rapport.directory.models import Contact
from rapport.sales.models import CommunicationType, Pipeline, PipelineStage, StageOutcome, WorkflowDefinition
from rapport.sales.selectors import Branch
from rapport.sales.services import MAX_TREE_DEPTH, MAX_TREE_NODES

# An event registered with a time lasts this long (as a new event on the calendar does).
EVENT_LENGTH = dt.timedelta(hours=1)
OUTLINE_INDENT = 2
# A long outline full of mistakes would list them all; the first few are enough to start fixing.
MAX_OUTLINE_ERRORS = 10
PATH_SEPARATOR = " → "


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


# --- Registering a communication on an account's pane ----------------------------------------------


def branch_choices(trees: Sequence[tuple[WorkflowDefinition, list[Branch]]]) -> tuple[
        list[tuple[str, list[tuple[str, str]]]], dict[str, CommunicationType]]:
    """The branch picker's options, one <optgroup> per workflow, each branch indented under its parent
    and named by its path (screen readers announce no indentation); and the branches by public id.

    Built from trees already read, so the picker costs no query per branch.
    """
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    nodes: dict[str, CommunicationType] = {}

    def walk(workflow: WorkflowDefinition, branches: list[Branch], names: list[str], options: list) -> None:
        for branch in branches:
            node = branch.node
            node.workflow = workflow  # the service checks the workflow is in use: no query for it
            path = [*names, node.name]
            options.append((node.public_id, "\u00a0\u00a0\u00a0" * len(names) + PATH_SEPARATOR.join(path)))
            nodes[node.public_id] = node
            walk(workflow, branch.children, path, options)

    for workflow, branches in trees:
        options: list[tuple[str, str]] = []
        walk(workflow, branches, [], options)
        if options:
            groups.append((workflow.name, options))
    return groups, nodes


class CommunicationForm(forms.Form):
    """A communication with a company: who, under which branch of which workflow, what kind, when.

    Without a time it becomes a task due on the date; with one, an hour-long event starting then,
    in the user's time zone.
    """

    contact = forms.CharField(label=_("Contact person"), required=False, widget=forms.Select)
    communication_type = forms.ChoiceField(
        label=_("Branch"), error_messages={"required": _("Choose the branch of a workflow it belongs to."),
                                           "invalid_choice": _("Choose one of the branches offered.")})
    kind = forms.ModelChoiceField(label=_("Kind"), queryset=ActivityKind.objects.none(), to_field_name="key",
                                  empty_label=None)
    date = forms.DateField(label=_("Date"), widget=_date_input())
    time = forms.TimeField(label=_("Time"), required=False, widget=_time_input(),
                           help_text=_("Without a time: a task due that day. With one: an event of an hour."))
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False,
                              help_text=_("Left empty: the workflow and the branch."))
    notes = forms.CharField(label=_("Notes"), max_length=20000, required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, user: Any, contacts: Sequence[Contact],
                 trees: Sequence[tuple[WorkflowDefinition, list[Branch]]], today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.time_zone = getattr(user, "time_zone", "") or "UTC"
        self.fields["contact"].widget.choices = [("", _("No one in particular"))] + [
            (contact.public_id, contact.full_name) for contact in contacts]
        groups, self.branches = branch_choices(trees)
        self.fields["communication_type"].choices = [("", _("Choose a branch…")), *groups]
        kinds = ActivityKind.objects.filter(is_active=True)
        self.fields["kind"].queryset = kinds
        self.initial.setdefault("kind", "meeting" if any(k.key == "meeting" for k in kinds) else None)
        self.initial.setdefault("date", today)

    def clean_contact(self) -> Contact | None:
        """Any contact the user may see: the service says so when they work at another company."""
        public_id = (self.cleaned_data.get("contact") or "").strip()
        if not public_id:
            return None
        contact = Contact.objects.visible_to(self.user).filter(public_id=public_id).first()
        if contact is None:
            raise ValidationError(_("No such contact."))
        return contact

    def clean_communication_type(self) -> CommunicationType:
        return self.branches[self.cleaned_data["communication_type"]]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        day, time = data.get("date"), data.get("time")
        if day is not None and time is not None:
            try:
                data["starts_at"] = local_datetime(day, time, self.time_zone)
            except ValidationError as exc:
                self.add_error("time", exc.message_dict["starts_at"])
        return data

    def activity_data(self) -> dict[str, Any]:
        """What services.communication_register passes on to activity_create."""
        data = self.cleaned_data
        values: dict[str, Any] = {"kind": data["kind"], "description": data["notes"]}
        if data["subject"]:
            values["subject"] = data["subject"]
        if data.get("starts_at") is None:
            values.update(activity_type=ActivityType.TASK, due_on=data["date"])
        else:
            values.update(activity_type=ActivityType.EVENT, starts_at=data["starts_at"],
                          ends_at=data["starts_at"] + EVENT_LENGTH, time_zone=self.time_zone)
        return values


# Service error keys and the fields of CommunicationForm that show them.
COMMUNICATION_ERROR_FIELDS = {"due_on": "date", "starts_at": "time", "ends_at": "time", "description": "notes",
                              "regarding": "contact", "attendees": "contact"}


# --- Pipeline stages -------------------------------------------------------------------------------


class StageForm(forms.Form):
    """A pipeline stage: added to a pipeline on the pipeline page, changed on its own page."""

    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.all(),
                                      to_field_name="public_id", empty_label=None)
    name = forms.CharField(label=_("Name"), max_length=100)
    probability = forms.IntegerField(label=_("Default probability (%)"), min_value=0, max_value=100, initial=10,
                                     help_text=_("A deal entering the stage starts with this probability."))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=StageOutcome.choices, initial=StageOutcome.OPEN,
                                help_text=_("Deals in a won or lost stage are closed."))
    place = forms.IntegerField(label=_("Place in the order"), min_value=1, max_value=1000, required=False,
                               help_text=_("1 is first. Left empty: last."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True,
                                   help_text=_("No deal moves into an inactive stage; reports keep it."))

    def __init__(self, *args: Any, stage: PipelineStage | None = None, place: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if stage is not None:
            # A stage stays in its pipeline (the service refuses a move).
            del self.fields["pipeline"]
            self.fields["place"].help_text = _("1 is first. The other stages move down or up to make room.")
            self.initial.update(name=stage.name, probability=stage.probability, outcome=stage.outcome,
                                place=place, is_active=stage.is_active)
        else:
            default = Pipeline.objects.filter(is_default=True).first()
            if default is not None:
                self.initial.setdefault("pipeline", default.public_id)

    def stage_data(self) -> dict[str, Any]:
        """What services.stage_save takes (the place is the view's: it moves other stages too)."""
        data = {name: value for name, value in self.cleaned_data.items() if name != "place"}
        data["name"] = data["name"].strip()
        return data


# --- Workflow definitions: the tree as an outline ---------------------------------------------------


def tree_outline(tree: Sequence[dict[str, Any]]) -> str:
    """A tree of {"name", "children"} as the outline the editor shows: one branch a line, two spaces a level."""
    lines: list[str] = []

    def walk(nodes: Sequence[dict[str, Any]], depth: int) -> None:
        for node in nodes:
            lines.append(" " * OUTLINE_INDENT * depth + node["name"])
            walk(node.get("children") or [], depth + 1)

    walk(tree, 0)
    return "\n".join(lines)


def parse_outline(text: str) -> list[dict[str, Any]]:
    """An indented outline as the nested [{"name", "children"}] that services.workflow_save takes.

    Every mistake is a ValidationError naming its line: an indent that is not a multiple of two spaces,
    a line more than one level under the line above it, a tree deeper than the services allow, a name
    twice on one level, a name too long, too many branches.
    """
    roots: list[dict[str, Any]] = []
    path: list[dict[str, Any]] = []  # the last branch read at each depth: where a deeper line goes
    seen: dict[int, dict[str, int]] = {}  # per list of siblings: folded name -> line number
    errors: list[str] = []
    count = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.replace("\t", " " * OUTLINE_INDENT).rstrip()
        name = line.strip()
        if not name:
            continue
        spaces = len(line) - len(line.lstrip(" "))
        if spaces % OUTLINE_INDENT:
            errors.append(gettext("Line %(line)d: indent with two spaces per level (this line has %(spaces)d).")
                          % {"line": number, "spaces": spaces})
            continue
        depth = spaces // OUTLINE_INDENT
        if depth > len(path):
            errors.append(gettext("Line %(line)d: indented too deep; a branch goes at most one level under the "
                                  "line above it.") % {"line": number})
            continue
        if depth >= MAX_TREE_DEPTH:
            errors.append(gettext("Line %(line)d: a workflow is at most %(depth)d levels deep.")
                          % {"line": number, "depth": MAX_TREE_DEPTH})
            continue
        if len(name) > 100:
            errors.append(gettext("Line %(line)d: a branch's name is at most 100 characters.") % {"line": number})
            continue
        siblings = roots if depth == 0 else path[depth - 1]["children"]
        names = seen.setdefault(id(siblings), {})
        if name.casefold() in names:
            errors.append(gettext("Line %(line)d: “%(name)s” is already on this level (line %(first)d).")
                          % {"line": number, "name": name, "first": names[name.casefold()]})
            continue
        names[name.casefold()] = number
        node: dict[str, Any] = {"name": name, "children": []}
        siblings.append(node)
        del path[depth:]
        path.append(node)
        count += 1
    if count > MAX_TREE_NODES:
        errors.append(gettext("A workflow has at most %(count)d branches; this outline has %(given)d.")
                      % {"count": MAX_TREE_NODES, "given": count})
    if errors:
        raise ValidationError(errors[:MAX_OUTLINE_ERRORS])
    return roots


def keep_branch_ids(tree: list[dict[str, Any]], existing: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give the parsed branches the ids of the stored ones they are, in place, so that the communications
    registered under them stay attached. A branch is the stored one
    - at the same path (names compared case-insensitively, so "meeting" can become "Meeting");
    - else, moved under another parent: the one stored branch of that name, when the name is in the
      workflow once, before and after;
    - else, renamed where it stands: the stored branch at the same place (same parent, same position)
      that no other line took.
    """
    by_path: dict[tuple[str, ...], str] = {}
    by_name: dict[str, list[str]] = {}
    by_place: dict[tuple[str | None, int], str] = {}

    def index(nodes: Sequence[dict[str, Any]], prefix: tuple[str, ...], parent_id: str | None) -> None:
        for position, node in enumerate(nodes):
            path = (*prefix, node["name"].casefold())
            by_path[path] = node["id"]
            by_name.setdefault(path[-1], []).append(node["id"])
            by_place[parent_id, position] = node["id"]
            index(node.get("children") or [], path, node["id"])

    index(existing, (), None)
    # Depth first, a parent before its children: (path, node, parent node, position among siblings).
    parsed: list[tuple[tuple[str, ...], dict[str, Any], dict[str, Any] | None, int]] = []

    def flatten(nodes: Sequence[dict[str, Any]], prefix: tuple[str, ...], parent: dict[str, Any] | None) -> None:
        for position, node in enumerate(nodes):
            path = (*prefix, node["name"].casefold())
            parsed.append((path, node, parent, position))
            flatten(node["children"], path, node)

    flatten(tree, (), None)
    used: set[str] = set()

    def take(node: dict[str, Any], branch_id: str | None) -> None:
        if branch_id is not None and "id" not in node and branch_id not in used:
            node["id"] = branch_id
            used.add(branch_id)

    for path, node, _parent, _position in parsed:
        take(node, by_path.get(path))
    new_names = Counter(path[-1] for path, *_rest in parsed)
    for path, node, _parent, _position in parsed:
        candidates = by_name.get(path[-1], [])
        if len(candidates) == 1 and new_names[path[-1]] == 1:
            take(node, candidates[0])
    for _path, node, parent, position in parsed:
        if parent is None or "id" in parent:
            take(node, by_place.get((parent["id"] if parent is not None else None, position)))
    return tree


class WorkflowForm(forms.Form):
    """A workflow definition: its name and description, whether it is in use, and its tree as an outline."""

    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=100000, required=False,
                                  help_text=_("Workflows are listed smallest first. Left empty: after the last."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True,
                                   help_text=_("Communications are registered only under active workflows."))
    outline = forms.CharField(
        label=_("Branches"), required=False, strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "outline",
                                     "autocapitalize": "off"}),
        help_text=_("One branch a line; indent a branch two spaces under the one it belongs to."))

    def __init__(self, *args: Any, workflow: WorkflowDefinition | None = None,
                 tree: Sequence[dict[str, Any]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if workflow is not None:
            self.fields["position"].help_text = _("Workflows are listed smallest first.")
            self.initial.update(name=workflow.name, description=workflow.description, position=workflow.position,
                                is_active=workflow.is_active, outline=tree_outline(tree))

    def clean_outline(self) -> list[dict[str, Any]]:
        return parse_outline(self.cleaned_data.get("outline") or "")

    def workflow_data(self) -> dict[str, Any]:
        """What services.workflow_save takes besides the tree; no position means "keep it" (new: "last")."""
        data = {name: self.cleaned_data[name] for name in ("name", "description", "is_active")}
        data["name"] = data["name"].strip()
        if self.cleaned_data.get("position") is not None:
            data["position"] = self.cleaned_data["position"]
        return data
