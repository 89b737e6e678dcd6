"""``Session``: the one object that owns a conversation from start to end.

It owns the agent definition, the model, the tool session, the MCP servers, the policy, the
transcript, the checkpoints, the context budget and the evidence check of final reports.
``prompt()`` runs one prompt through the loop, records every message (and every compaction),
and checkpoints the work tree before the prompt and at its end. The CLI's headless and
interactive modes and the Python API only drive a session and listen to its events; none of
them wires a transcript or closes parts itself.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import AsyncGenerator, Generator, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from backend_agent.definitions import AgentDefinition
from backend_agent.errors import UserError, warn_to_stderr
from backend_agent.evidence.change import Change, since_revision, since_snapshot
from backend_agent.evidence.review import EvidenceReview
from backend_agent.evidence.source import SESSION_START_LABEL, Progress
from backend_agent.evidence.template import find_template
from backend_agent.evidence.testruns import test_runs
from backend_agent.messages import Message, Usage
from backend_agent.models.base import Model
from backend_agent.permissions.approval import Approver
from backend_agent.permissions.callback import CallbackApprover, CanUseTool
from backend_agent.runtime.agent import Agent, EndOfTurnCheck
from backend_agent.runtime.compaction import Compaction, Compactor, Section
from backend_agent.runtime.context import (
    ContextUsage,
    messages_tokens,
    text_tokens,
    tools_tokens,
)
from backend_agent.runtime.events import AgentEvent, EventHandler, PromptSent, RunFinished
from backend_agent.runtime.prompt import build_system_prompt, memory_section
from backend_agent.runtime.records import init_record
from backend_agent.runtime.results import RunResult
from backend_agent.sessions import lookup
from backend_agent.sessions.config import SessionConfig
from backend_agent.sessions.controls import BetweenPrompts
from backend_agent.sessions.parts import SessionParts, build_parts
from backend_agent.sessions.rewind import (
    CheckpointKeeper,
    RewindOutcome,
    plan_code_rewind,
    prompt_point,
    rewind_session,
)
from backend_agent.sessions.store import JsonlFileStore, SessionStore, Warn, location_of
from backend_agent.sessions.streams import ApprovalRelay, astream_run, stream_run
from backend_agent.sessions.transcript import PromptPoint, SessionLog, Transcript
from backend_agent.tools.base import Tool
from backend_agent.tools.todo import Todo, latest_todos

if TYPE_CHECKING:
    from backend_agent.sessions.checkpoints import CheckpointStore, RestorePlan


class Session(BetweenPrompts):
    """One conversation: its parts, its transcript and checkpoints, and the loop that runs it.

    Use as a context manager (or call ``close()``): closing kills every process the session
    started and stops its MCP servers. ``interrupt()`` may be called from another thread.
    """

    def __init__(
        self,
        parts: SessionParts,
        *,
        store: SessionStore,
        start: lookup.SessionOrigin,
        config: SessionConfig,
        warn: Warn,
        approvals: ApprovalRelay | None = None,
        progress: Progress | None = None,
    ) -> None:
        """Usually called by ``Session.open``: ``parts`` built from ``config`` (whose ``cwd``
        is absolute), the transcript's ``store``, how the session begins, the relay its
        policy asks approvals through (they become events of the running prompt), and what
        hears of the evidence check's steps (``progress``)."""
        cwd = config.cwd
        self._approvals = approvals or ApprovalRelay()
        self._approvals.stop = self.interrupt
        self.parts = parts
        self.cwd = cwd
        self.store = store
        self.id = start.session_id
        self.warn = warn
        earlier = start.earlier
        self._transcript = Transcript(
            store, self.id, cwd=cwd, head=earlier.head if earlier else None, warn=warn
        )
        self._checkpoints = CheckpointKeeper(cwd, warn) if config.checkpoints else None
        self._prior = earlier.summary if earlier else None
        self._pending_context = ""
        self.config = config
        self._agent_choice = config.agent
        self._start_context = ""  # what session-start hooks added to the system prompt
        self._sections: list[Section] = []
        self._lock = threading.Lock()
        self._closed = False
        self.forked_from = earlier.session_id if earlier and start.forked else None
        self.resumed = earlier is not None
        self.agent = Agent(
            parts.definition,
            parts.model,
            parts.tools,
            policy=parts.policy,
            system_prompt=self._begin(earlier, start.forked, config),
            max_turns=config.limits.max_turns,
            max_budget_usd=config.limits.max_budget_usd,
            session_id=self.id,
            messages=earlier.messages if earlier else None,
            prompts=[point.text for point in earlier.prompts] if earlier else None,
            compactor=Compactor(parts.context, self._fresh_system_prompt, self._sections),
        )
        self.tools.todos.replace(latest_todos(self.agent.messages))
        self.add_compaction_section(self.tools.todos.as_text)
        self.review = self._begin_review(config, progress)

    @classmethod
    def open(
        cls,
        config: SessionConfig,
        *,
        model: Model | None = None,
        approver: Approver | None = None,
        can_use_tool: CanUseTool | None = None,
        tools: Sequence[Tool] = (),
        store: SessionStore | None = None,
        warn: Warn = warn_to_stderr,
        progress: Progress | None = None,
    ) -> Session:
        """Build a ready session from ``config``: a new conversation, or the one it resumes.

        ``model`` replaces the configured model; ``approver`` (or the ``can_use_tool``
        function) is asked when a tool call needs approval (without one such calls are
        refused); ``tools`` are added to the built-in ones (a program's Python tools);
        ``store`` keeps the transcript (the JSONL files under ``~/.backend-agent/projects`` by
        default); ``progress`` hears of the evidence check's steps (step, done, total).
        UserError for anything the user must fix.
        """
        approvals = ApprovalRelay(approver)
        if can_use_tool is not None:
            if approver is not None:
                raise UserError("give either an approver or can_use_tool, not both")
            approvals.approver = CallbackApprover(can_use_tool, approvals.interrupt)
        cwd = config.cwd.resolve()
        if not cwd.is_dir():
            raise UserError(f"--cwd {config.cwd}: not a directory")
        config = replace(config, cwd=cwd)
        store = store if store is not None else JsonlFileStore.for_cwd(cwd, warn=warn)
        start = lookup.choose_start(config.resume, store, cwd)
        parts = build_parts(
            config,
            session_id=start.session_id,
            transcript_path=location_of(store, start.session_id),
            approver=approvals if approvals.approver is not None else None,
            model=model,
            warn=warn,
            extra_tools=tools,
        )
        try:
            return cls(
                parts,
                store=store,
                start=start,
                config=config,
                warn=warn,
                approvals=approvals,
                progress=progress,
            )
        except BaseException:
            parts.close()
            raise

    # --- what the session is ---------------------------------------------------------

    @property
    def definition(self) -> AgentDefinition:
        return self.parts.definition

    @property
    def model(self) -> Model:
        return self.parts.model

    @property
    def permission_mode(self) -> str:
        return self.parts.permissions.mode

    @property
    def sandbox(self) -> str:
        """What isolates shell commands: ``bubblewrap``, ``landlock`` or ``none``."""
        return self.tools.sandbox

    @property
    def todos(self) -> list[Todo]:
        """The model's checklist as its last TodoWrite call left it."""
        return self.tools.todos.items

    @property
    def transcript_path(self) -> Path | None:
        return location_of(self.store, self.id)

    @property
    def messages(self) -> list[Message]:
        """The conversation as the model will see it next."""
        return self.agent.messages

    @property
    def usage(self) -> Usage:
        """Tokens of every model call this session object made."""
        return self.agent.usage

    @property
    def last_usage(self) -> Usage:
        """Tokens of the latest model call (its input is the context's size then)."""
        return self.agent.last_usage

    @property
    def total_cost_usd(self) -> float:
        """The cost of the whole conversation, earlier runs of a resumed session included."""
        return (self._prior.cost_usd if self._prior else 0.0) + self.agent.total_cost_usd

    def context_usage(self) -> ContextUsage:
        """What fills the model's context now, by part (system prompt, memory files, tools,
        messages), in estimated tokens, with the window, reserve and compaction threshold."""
        agent = self.agent
        budget = agent.compactor.budget if agent.compactor is not None else self.parts.context
        gauge = agent.gauge
        memory = text_tokens(memory_section(agent.system_prompt))
        return ContextUsage(
            window=budget.window,
            output_reserve=budget.output_reserve,
            threshold=budget.threshold,
            system=gauge.tokens(text_tokens(agent.system_prompt) - memory),
            memory=gauge.tokens(memory),
            tools=gauge.tokens(tools_tokens(self.tools.specs())),
            messages=gauge.tokens(messages_tokens(agent.messages)),
            last_request=agent.last_usage.input_tokens
            + agent.last_usage.cache_read_input_tokens
            + agent.last_usage.cache_creation_input_tokens,
            auto_compact=budget.auto_compact
            and not (agent.compactor is not None and agent.compactor.gave_up),
        )

    def init_record(self) -> dict[str, Any]:
        """The ``system/init`` record: session id, directory, model, tools, agent, mode, sandbox."""
        return init_record(
            self.id,
            cwd=str(self.cwd),
            model=self.model.model_id,
            tools=list(self.tools.tool_names),
            agent=self.definition.name,
            permission_mode=self.permission_mode,
            sandbox=self.sandbox,
        )

    def history(self) -> SessionLog:
        """The transcript read back: the conversation's prompts, messages and checkpoints."""
        return lookup.load_log(self.store, self.id)

    @property
    def prompts(self) -> list[PromptPoint]:
        """The user prompts of the conversation, first to last (what rewind goes back to)."""
        return self.history().prompts

    def changed_files(self, since_prompt: int = 1) -> list[str]:
        """The files changed since just before prompt ``since_prompt`` (1: the session's
        whole change), by any tool or anyone else; paths relative to the working directory.
        UserError when that prompt has no checkpoint."""
        store, checkpoint = self._checkpoint_before(since_prompt)
        return store.changed_files(checkpoint)

    def change_since(self, prompt: int = 1) -> Change:
        """The change since just before prompt ``prompt`` (1: the session's whole change):
        the files, with their contents then and now, for the evidence engine. UserError when
        that prompt has no checkpoint."""
        store, checkpoint = self._checkpoint_before(prompt)
        return since_snapshot(
            self.cwd,
            store.changed_files(checkpoint),
            lambda paths: store.read_files(checkpoint, paths),
            SESSION_START_LABEL if prompt == 1 else f"prompt {prompt}",
        )

    def _checkpoint_before(self, prompt: int) -> tuple[CheckpointStore, str]:
        point = prompt_point(self.history(), prompt)
        if self._checkpoints is None or point.checkpoint is None:
            raise UserError(f"prompt {prompt} has no checkpoint (checkpoints were off)")
        return self._checkpoints.store, point.checkpoint

    # --- running it ------------------------------------------------------------------

    def prompt(self, text: str, on_event: EventHandler | None = None) -> RunResult:
        """Run ``text`` until the model is done or the run stops; every message is recorded,
        the work tree is checkpointed before and after. Returns the result; ``on_event`` sees
        every event as it happens, ending with ``RunFinished``."""
        if self._closed:
            raise UserError("this session is closed; open a new one")
        listener = on_event or _ignore
        before = self._snapshot()

        def emit(event: AgentEvent) -> None:
            if isinstance(event, PromptSent) and event.origin == "prompt":
                self._transcript.record(event, prompt=text, checkpoint=before)
            else:
                self._transcript.record(event)
            listener(event)

        self._approvals.listener = emit
        context, self._pending_context = self._pending_context, ""
        self.review.start_prompt()
        result = self.review.finish(self.agent.run(text, emit, context=context))
        record = result.to_json()
        after = self._snapshot()
        self._transcript.write({**record, "checkpoint": after} if after else record)
        listener(RunFinished(result))
        return result

    def stream(self, text: str) -> Generator[AgentEvent, None, None]:
        """Run ``text`` as ``prompt`` does, giving its events as they happen; the last is
        ``RunFinished`` with the result. The run goes on in a worker thread: leaving the loop
        early (``close()``, or a ``break`` once the generator is dropped) interrupts it and
        waits until it has stopped."""
        return stream_run(functools.partial(self.prompt, text), self.interrupt)

    def astream(self, text: str) -> AsyncGenerator[AgentEvent, None]:
        """``stream`` as an async iterator: the event loop stays free while the run works, and
        ``async def`` tools, hooks and ``can_use_tool`` are awaited on it."""
        return astream_run(functools.partial(self.prompt, text), self.interrupt)

    def compact(self, focus: str | None = None, on_event: EventHandler | None = None) -> Compaction:
        """Compact the conversation now (``/compact [focus]``): a summary replaces it, with
        every user prompt kept verbatim; recorded like an automatic one. ``focus`` is what the
        summary should attend to. CompactionError (a UserError) when it cannot be done."""
        if self._closed:
            raise UserError("this session is closed; open a new one")
        listener = on_event or _ignore

        def emit(event: AgentEvent) -> None:
            self._transcript.record(event)
            listener(event)

        return self.agent.compact(focus or "", emit)

    def add_compaction_section(self, section: Section) -> None:
        """Carry ``section()``'s text (e.g. the todo list) into every compacted context;
        called at each compaction, '' to add nothing."""
        self._sections.append(section)

    def add_end_check(self, check: EndOfTurnCheck) -> None:
        """Consult ``check`` whenever the model ends its turn; feedback it returns is sent to
        the model as one more user message (e.g. the evidence check of a final report)."""
        self.agent.end_checks.append(check)

    def interrupt(self) -> None:
        """Cancel the running turn (from any thread): commands are killed, the run returns a
        cancelled result."""
        self.agent.interrupt()

    def plan_rewind(self, to: int) -> RestorePlan:
        """What a code rewind to before prompt ``to`` would restore, and which of those files
        changed outside the session since its last checkpoint (``conflicts``)."""
        return plan_code_rewind(self._checkpoints, self.history(), to)

    def rewind(
        self, to: int, *, code: bool = True, conversation: bool = True, force: bool = False
    ) -> RewindOutcome:
        """Go back to just before prompt ``to`` (1 = the first): restore the files the session
        changed since (``code``) and/or the conversation (``conversation``). Files changed
        outside the session since its last checkpoint raise RewindConflict unless ``force``."""
        outcome = rewind_session(
            self.history(),
            self._transcript,
            self._checkpoints,
            to,
            code=code,
            conversation=conversation,
            force=force,
        )
        if outcome.messages is not None:
            self.agent.messages = outcome.messages
            self.tools.todos.replace(latest_todos(outcome.messages))
            self.agent.prompts = [point.text for point in self.prompts]
        return outcome

    def close(self) -> None:
        """Kill every process the session started and stop its MCP servers (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.parts.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- inside ----------------------------------------------------------------------

    def _begin(self, earlier: SessionLog | None, forked: bool, config: SessionConfig) -> str:
        """Write the session's first entries (a fork first copies the conversation it comes
        from), run the session-start hooks, and return the system prompt: a resumed session
        keeps the one its model saw, so the request starts with the same bytes."""
        if earlier is not None and forked:
            self._transcript.append(lookup.copied_entries(earlier, self.id))
        init = self.init_record()
        if self.forked_from is not None:
            init["forkedFrom"] = self.forked_from
        self._transcript.write(init)
        context = self.policy.on_session_start("resume" if earlier else "startup").strip()
        self._start_context = context
        agent = config.agent
        if (
            earlier is not None
            and earlier.system_prompt is not None
            and earlier.agent == self.definition.name
            and agent.system_prompt is None
            and agent.append_system_prompt is None
        ):
            self._pending_context = context
            return earlier.system_prompt
        prompt = self.parts.system_prompt
        if context:
            prompt = f"{prompt.rstrip()}\n\n{context}\n"
        self._transcript.write({"type": "system", "subtype": "system_prompt", "text": prompt})
        return prompt

    def _fresh_system_prompt(self) -> str:
        """The system prompt built anew (memory files re-read), for a compacted context."""
        choice = self._agent_choice
        return build_system_prompt(
            self.definition.prompt,
            self.cwd,
            system_prompt=choice.system_prompt,
            append_system_prompt=choice.append_system_prompt,
            extra_context=self._start_context,
        )

    def _begin_review(self, config: SessionConfig, progress: Progress | None) -> EvidenceReview:
        """The evidence check of final reports, and the ``backend`` tools' view of the
        session's change (both measure from the session's start)."""
        evidence = self.parts.evidence
        evidence.since_start = self._session_change
        evidence.test_results = lambda: test_runs(self.agent.messages)
        review = EvidenceReview(
            find_template(self.agent.system_prompt),
            self.parts.evidence_mode,
            evidence=evidence,
            change=self._session_change,
            rounds=config.evidence.rounds,
            warn=self.warn,
            progress=progress,
        )
        self.add_end_check(review)
        return review

    def _session_change(self) -> Change:
        """The session's change; from HEAD when checkpoints are off in a git repository."""
        try:
            return self.change_since(1)
        except UserError:
            if self._checkpoints is not None and not self._checkpoints.off:
                raise
            return since_revision(self.cwd, "HEAD")

    def _snapshot(self) -> str | None:
        return self._checkpoints.snapshot() if self._checkpoints is not None else None


def _ignore(event: AgentEvent) -> None:
    """The listener used when the caller gives none."""
