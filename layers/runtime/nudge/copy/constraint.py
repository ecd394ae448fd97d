"""Constrained decoding: the model may only write phrasebook lines that fit the customer.

At each step a row may sample only tokens that keep its completion on a path through the
phrasebook (nudge.copy.phrasebook) for its campaign, tone and facts:

    " <subject>\\nPreheader:"  " <preheader>\\nIntro:"  " <opening>" (" <body>"){1,2} [" <close>"] "\\n"

so a spliced sentence, a slot the customer has no fact for, or a line another campaign owns can
never be sampled; the model still decides which lines, in which order, with its own probabilities
(renormalized over what is allowed). Lines are tokenized in the segments above; byte-level BPE
never merges across a space before a word or a newline, so the segments' tokens are exactly the
tokens of the whole completion (a test checks this on every line).

>>> trie = TokenTrie()
>>> trie.add([5, 6, 7], "body"); trie.add([5, 8], "close")
>>> sorted(trie.root.children), sorted(trie.root.children[5].children), trie.root.children[5].children[8].role
([5], [6, 8], 'close')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from nudge.copy.phrasebook import Phrasebook

# Roles of a finished line; a trie's leaf says which role ended there.
SUBJECT, PREHEADER, OPEN, BODY, CLOSE = "subject", "preheader", "open", "body", "close"
MAX_BODIES = 2  # the corpus writes one or two body sentences
PLURAL = "+plural"  # suffix of the tries that follow a plural sentence (they hold the closes that say "them")


@dataclass(eq=False)
class Node:
    children: dict[int, Node] = field(default_factory=dict)
    role: str | None = None  # a whole line of this role ends here
    plural: bool = False  # ... and that line names several things a later "them" may refer to
    ids: np.ndarray | None = None  # the children's token ids, built once by TokenTrie.freeze


class TokenTrie:
    """Token sequences of lines, sharing prefixes; each sequence's last node knows its line's role."""

    def __init__(self) -> None:
        self.root = Node()

    def add(self, tokens: Iterable[int], role: str = "line", plural: bool = False) -> None:
        node = self.root
        for token in tokens:
            node = node.children.setdefault(token, Node())
        node.role = node.role or role
        node.plural = node.plural or plural

    def freeze(self) -> TokenTrie:
        stack = [self.root]
        while stack:
            node = stack.pop()
            node.ids = np.fromiter(node.children, dtype=np.int64, count=len(node.children))
            stack.extend(node.children.values())
        return self


@dataclass(frozen=True)
class State:
    node: Node | None  # where the row is inside the current line; None once the intro has ended
    header: bool  # still in the subject or the preheader line (their tries end in "Preheader:"/"Intro:")
    bodies: int = 0  # body sentences finished
    plural: bool = False  # a finished sentence named several things: a close may now say "them"


class Constraint:
    """What the generator asks of a constraint: a start state, the tokens allowed in a state, the state after a
    token; and the run of tokens it forces from a state (each the only one allowed), which jump-forward writes
    without sampling. States must be hashable."""

    def start(self) -> Any:
        raise NotImplementedError

    def allowed(self, state: Any) -> np.ndarray:
        raise NotImplementedError

    def advance(self, state: Any, token: int) -> Any:
        raise NotImplementedError

    def finished(self, state: Any) -> bool:
        """True once the completion is over (nothing more is forced)."""
        return False

    def forced_run(self, state: Any, limit: int = 256) -> tuple[np.ndarray, Any]:
        """The tokens forced from `state` on (at most `limit`), and the state after them; empty at a choice."""
        tokens = []
        while len(tokens) < limit and not self.finished(state) and len(allowed := self.allowed(state)) == 1:
            tokens.append(int(allowed[0]))
            state = self.advance(state, tokens[-1])
        return np.array(tokens, dtype=np.int64), state

    def choose(self, state: Any, token: int) -> tuple[np.ndarray, Any]:
        """`token` chosen at `state`, then the run it forces: (the token and the forced tokens, the state after
        them). What jump-forward writes after each sampled token."""
        run, after = self.forced_run(self.advance(state, token))
        return np.concatenate([np.array([token], dtype=np.int64), run]), after


class PhrasebookConstraint(Constraint):
    """Allowed next tokens for one brief's completion (see the module docstring)."""

    def __init__(self, tries: dict[str, TokenTrie], newline_id: int):
        self.tries = tries
        self.newline_id = newline_id
        self._end = np.array([newline_id], dtype=np.int64)
        self._runs: dict[State, tuple[np.ndarray, State]] = {}  # forced_run's cache
        self._choices: dict[tuple[State, int], tuple[np.ndarray, State]] = {}  # choose's cache

    def start(self) -> State:
        return State(self.tries[SUBJECT].root, header=True)

    def _next_trie(self, role: str, bodies: int, plural: bool) -> TokenTrie | None:
        """The trie of the sentence that may follow a finished `role` line (None: only the end); a close that
        refers back ("them") is in it only after a plural sentence (`plural`)."""
        if role == OPEN:
            return self.tries[BODY]
        if role == BODY:
            return self.tries[("body_or_close" if bodies < MAX_BODIES else CLOSE) + (PLURAL if plural else "")]
        return None

    def allowed(self, state: State) -> np.ndarray:
        node = state.node
        if node is None:
            return self._end
        if node.role is None or state.header:
            return node.ids
        follow = self._next_trie(node.role, state.bodies + (node.role == BODY), state.plural or node.plural)
        ends = [node.ids, self._end] if node.role != OPEN else [node.ids]  # an intro has a body sentence
        if follow is not None:
            ends.append(follow.root.ids)
        return np.concatenate(ends)

    def finished(self, state: State) -> bool:
        return state.node is None  # the intro has ended

    def forced_run(self, state: State) -> tuple[np.ndarray, State]:
        """Constraint.forced_run, cached per state: a line's tail after its first distinguishing words is
        walked once per container."""
        run = self._runs.get(state)
        if run is None:
            run = self._runs[state] = super().forced_run(state)
        return run

    def choose(self, state: State, token: int) -> tuple[np.ndarray, State]:
        """Constraint.choose, cached per (state, token): one lookup per sampled token instead of a step and a
        run (measured: the per-token bookkeeping was about a tenth of a batch)."""
        key = (state, token)
        choice = self._choices.get(key)
        if choice is None:
            choice = self._choices[key] = super().choose(state, token)
        return choice

    def advance(self, state: State, token: int) -> State:
        node = state.node
        if node is None:
            return state
        child = node.children.get(token)
        if child is not None:
            if state.header and child.role is not None:  # the subject (or preheader) line and its label are done
                return State(self.tries[PREHEADER if child.role == SUBJECT else OPEN].root, header=child.role == SUBJECT)
            return State(child, state.header, state.bodies, state.plural)
        # the current sentence is finished: the token ends the intro, or starts the next sentence
        bodies, plural = state.bodies + (node.role == BODY), state.plural or node.plural
        follow = self._next_trie(node.role or CLOSE, bodies, plural)
        if token == self.newline_id or follow is None or token not in follow.root.children:
            return State(None, header=False, bodies=bodies, plural=plural)
        return State(follow.root.children[token], header=False, bodies=bodies, plural=plural)


def build_constraint(
    encode: Callable[[str], list[int]], book: Phrasebook, campaign_type: str, tone: str, facts: frozenset[str]
) -> PhrasebookConstraint:
    """The constraint for one (campaign, tone, facts); `encode` is the model's tokenizer."""
    names = (SUBJECT, PREHEADER, OPEN, BODY, CLOSE, "body_or_close", CLOSE + PLURAL, "body_or_close" + PLURAL)
    tries = {name: TokenTrie() for name in names}
    for role, tail in ((SUBJECT, "\nPreheader:"), (PREHEADER, "\nIntro:"), (OPEN, ""), (BODY, ""), (CLOSE, "")):
        for line in book.choices(campaign_type, role, tone, facts):
            tokens = encode(" " + line.text + tail)
            # a close goes in the tries that follow a plural sentence, and, unless it says "them", the others too
            kinds = (PLURAL,) if line.refers_back else ("", PLURAL)
            targets = [role + kind for kind in kinds] if role == CLOSE else [role]
            if role in (BODY, CLOSE):
                targets += ["body_or_close" + kind for kind in kinds]
            for name in targets:
                tries[name].add(tokens, role, line.plural)
    newline = encode("\n")
    if len(newline) != 1:
        raise ValueError(f"the tokenizer must spell a newline as one token, got {newline}")
    return PhrasebookConstraint({k: t.freeze() for k, t in tries.items()}, newline[0])


class ConstraintCache:
    """Constraints per (campaign, tone, facts), built once per container for each combination seen."""

    def __init__(self, encode: Callable[[str], list[int]], book: Phrasebook, size: int = 512):
        self._build = lru_cache(maxsize=size)(lambda c, t, f: build_constraint(encode, book, c, t, f))

    def get(self, campaign_type: str, tone: str, facts: frozenset[str]) -> PhrasebookConstraint:
        return self._build(campaign_type, tone, facts)


__all__ = ["Constraint", "ConstraintCache", "PhrasebookConstraint", "State", "TokenTrie", "build_constraint"]
