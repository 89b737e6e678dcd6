"""The prompt line: prompt_toolkit with the keys of the interactive mode, per-project history,
completion of commands and paths, and the status line at the bottom.

Enter sends; Esc+Enter (Alt+Enter), a backslash before Enter, and pasted text make new lines.
Ctrl-C clears the line, and on an empty line twice in a row exits (Ctrl-D exits at once).
Shift+Tab and Ctrl-O call back into the conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app, run_in_terminal
from prompt_toolkit.buffer import CompletionState
from prompt_toolkit.completion import CompleteEvent, Completer
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.styles import Style

if TYPE_CHECKING:
    from prompt_toolkit.buffer import Buffer
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

EXIT_HINT = "Press Ctrl-C again to exit"
PROMPT_MARK = [("bold", "> ")]
STYLE = Style.from_dict({"bottom-toolbar": "noreverse", "bottom-toolbar.text": "noreverse"})
Toolbar = Callable[[str, int], list[tuple[str, str]]]


class PromptInput:
    """Reads prompts and answers. ``toolbar(hint, width)`` draws the status line (or the hint);
    ``on_shift_tab`` and ``on_ctrl_o`` are called from the key handlers."""

    def __init__(
        self,
        *,
        toolbar: Toolbar,
        on_shift_tab: Callable[[], None],
        on_ctrl_o: Callable[[], None],
        history: History | None = None,
        completer: Completer | None = None,
        input: Input | None = None,
        output: Output | None = None,
    ) -> None:
        self.toolbar = toolbar
        self.on_shift_tab = on_shift_tab
        self.on_ctrl_o = on_ctrl_o
        self._exit_armed = False
        self._io = {"input": input, "output": output}
        self.completer = completer
        self.session: PromptSession[str] = PromptSession(
            history=history or InMemoryHistory(),
            completer=completer,
            complete_while_typing=True,
            key_bindings=self._bindings(),
            multiline=True,
            bottom_toolbar=self._toolbar,
            style=STYLE,
            prompt_continuation="  ",
            enable_history_search=False,
            input=input,
            output=output,
        )
        self.session.default_buffer.on_text_changed += self._disarm

    def read(self, default: str = "") -> str:
        """The next prompt as typed; EOFError when the user exits."""
        self._exit_armed = False
        return self.session.prompt(FormattedText(PROMPT_MARK), default=default)

    def ask(self, question: str) -> str:
        """A one-line answer (a choice in a picker), without history or completion;
        Ctrl-C or Ctrl-D answer '' (cancel)."""
        asker: PromptSession[str] = PromptSession(**self._io)  # type: ignore[arg-type]
        try:
            return asker.prompt(question)
        except (KeyboardInterrupt, EOFError):
            return ""

    def _toolbar(self) -> list[tuple[str, str]]:
        width = get_app().output.get_size().columns
        return self.toolbar(EXIT_HINT if self._exit_armed else "", width)

    def _disarm(self, buffer: Buffer) -> None:
        self._exit_armed = False

    def _bindings(self) -> KeyBindings:
        keys = KeyBindings()

        @keys.add("enter")
        def _send(event: KeyPressEvent) -> None:
            buffer = event.current_buffer
            before = buffer.document.text_before_cursor
            if before.endswith("\\"):
                buffer.delete_before_cursor(1)
                buffer.insert_text("\n")
                return
            state = buffer.complete_state
            if state is not None and state.completions:
                text = buffer.text
                if text.startswith("/") and not any(c.isspace() for c in text):
                    buffer.apply_completion(state.current_completion or state.completions[0])
                elif state.current_completion is not None:
                    buffer.apply_completion(state.current_completion)
                    return
            buffer.validate_and_handle()

        @keys.add("tab")
        def _complete(event: KeyPressEvent) -> None:
            # Completions are computed here, not in the background: a Tab pressed while the
            # completion started by typing is still running must not be lost.
            buffer = event.current_buffer
            if buffer.complete_state is not None:
                buffer.complete_next()
                return
            if self.completer is None:
                return
            requested = CompleteEvent(completion_requested=True)
            found = list(self.completer.get_completions(buffer.document, requested))
            if found:
                buffer.complete_state = CompletionState(buffer.document, found)
                buffer.go_to_completion(0)

        @keys.add("escape", "enter")
        @keys.add("c-j")
        def _new_line(event: KeyPressEvent) -> None:
            event.current_buffer.insert_text("\n")

        @keys.add("escape", "escape")
        def _clear(event: KeyPressEvent) -> None:
            event.current_buffer.reset()

        @keys.add("c-c")
        def _interrupt(event: KeyPressEvent) -> None:
            buffer = event.current_buffer
            if buffer.text:
                buffer.reset()
                self._exit_armed = False
            elif self._exit_armed:
                event.app.exit(exception=EOFError)
            else:
                self._exit_armed = True
                event.app.invalidate()

        @keys.add("s-tab")
        def _cycle_mode(event: KeyPressEvent) -> None:
            self.on_shift_tab()
            event.app.invalidate()

        @keys.add("c-o")
        def _expand(event: KeyPressEvent) -> None:
            run_in_terminal(self.on_ctrl_o)

        return keys
