"""Catastrophic forgetting: learn tasks one after another and test the earlier ones again."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import pandas as pd
import torch

from .. import _validate, data, metrics
from ._build import Factory, build_memory, child_seeds, label_of, place_like
from ._protocol import read, write, written

KINDS = ("clustered", "random")
PER_TASK = "ints (one per task)"
# How many task sets _tasks keeps: a tuning grid runs every setting on the same tasks.
KEPT_TASKS = 8
_TASKS: OrderedDict[tuple, list[data.Task]] = OrderedDict()
_TASKS_LOCK = threading.Lock()


def make_tasks(
    kind: str,
    n_tasks: int,
    n_train: int | Sequence[int],
    n_test: int | Sequence[int] | None,
    dim: int,
    trials: int,
    seed: int,
    **options: object,
) -> list[data.Task]:
    """The tasks of one run: ``kind="clustered"`` (:func:`memnb.data.clustered_tasks`, test
    keys are fresh keys of the same clusters; ``n_test`` defaults to 32 per task) or
    ``"random"`` (:func:`memnb.data.random_tasks`, test = train, so ``n_test`` must be
    None). ``options`` go to the generator (``clusters``, ``spread``, ``kind``, ...)."""
    if kind == "clustered":
        n_test = 32 if n_test is None else n_test
        return data.clustered_tasks(n_tasks, n_train, n_test, dim, trials, seed=seed, **options)
    if kind == "random":
        if n_test is not None:
            raise ValueError(
                f"random pairs are tested on their train split (memorisation), so n_test must "
                f"be None, got n_test={n_test!r}"
            )
        return data.random_tasks(n_tasks, n_train, dim, trials, seed=seed, **options)
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


class _Scorer:
    """Tests every task at once: the accuracy on each task's test split, ``(T, n_tasks)``.

    A test read is a hit when it is nearest (cosine) to its own value among the values
    of *all* the tasks, the same candidates whatever has been learned so far. A read
    that is not finite (a memory that diverged) is a miss, and its trial is marked in
    ``diverged``.
    """

    def __init__(self, tasks: list[data.Task]) -> None:
        self.candidates = torch.cat([task.values for task in tasks], dim=-2)
        sizes = [task.values.shape[-2] for task in tasks]
        offsets = [sum(sizes[:i]) for i in range(len(tasks))]
        self.queries = torch.cat([task.test_keys for task in tasks], dim=-2)
        self.targets = torch.cat([t.test_targets + o for t, o in zip(tasks, offsets, strict=True)])
        self.splits = [task.n_test for task in tasks]
        self.shape = (*self.queries.shape[:-1], self.candidates.shape[-1])
        self.diverged = torch.zeros(self.queries.shape[0], dtype=torch.bool)

    @property
    def chance(self) -> float:
        """The accuracy of a read that picks a candidate at random."""
        return 1.0 / self.candidates.shape[-2]

    def __call__(self, memory: object) -> torch.Tensor:
        with torch.no_grad():
            retrieved = read(memory, self.queries, self.shape)
            finite = torch.isfinite(retrieved).all(dim=-1, keepdim=True)
            self.diverged |= ~finite.all(dim=(-2, -1)).cpu()
            retrieved = torch.where(finite, retrieved, 0.0)  # a zero read is a miss
            hits = metrics.nearest_target_recall(retrieved, self.candidates, self.targets)
        accuracy = [part.double().mean(dim=-1) for part in hits.split(self.splits, dim=-1)]
        return torch.stack(accuracy, dim=-1).cpu()


def _learn_in_turn(
    memory: object, tasks: list[data.Task], steps: list[int], every_step: bool = False
) -> tuple[torch.Tensor, _Scorer]:
    """Learn each task for its steps and test every task: accuracies ``(points, T, n)``.

    The points are the end of each task (``every_step=False``), or the start and every
    single step (``every_step=True``). Also returns the scorer (chance, diverged trials).
    """
    score = _Scorer(tasks)
    points = [score(memory)] if every_step else []
    for task, task_steps in zip(tasks, steps, strict=True):
        for _ in range(task_steps):
            write(memory, task.train_keys, task.train_values, 1)
            if every_step:
                points.append(score(memory))
        if not every_step:
            points.append(score(memory))
    return torch.stack(points), score


def _setup(
    factory: Factory,
    n_tasks: int,
    steps: int | Sequence[int],
    trials: int,
    dim: int,
    seed: int,
    kind: str,
    n_train: int | Sequence[int],
    n_test: int | Sequence[int] | None,
    options: dict,
) -> tuple[object, list[data.Task], list[int]]:
    """Check the settings shared by the task protocols and build the memory and its tasks
    (on the memory's device and dtype). Returns the memory, the tasks and the steps of
    each task."""
    steps = _validate.sequence("steps", steps, _validate.positive_int, PER_TASK, length=n_tasks)
    trials = _validate.positive_int("trials", trials)
    dim = _validate.positive_int("dim", dim)
    data_seed, memory_seed = child_seeds(seed, 2)
    tasks = _tasks(kind, n_tasks, n_train, n_test, dim, trials, data_seed, options)
    memory = build_memory(factory, dim=dim, trials=trials, seed=memory_seed)
    return memory, [_placed(memory, task) for task in tasks], steps


def _tasks(kind, n_tasks, n_train, n_test, dim, trials, seed, options) -> list[data.Task]:
    """:func:`make_tasks`, or a copy of the tasks it returned for the same arguments when
    they are still kept (the last :data:`KEPT_TASKS`): the tasks are a deterministic
    function of the arguments, and a copy leaves the kept tensors as they were whatever a
    memory does with its own."""
    try:
        key = (kind, n_tasks, _frozen(n_train), _frozen(n_test), dim, trials, seed)
        key += tuple(sorted((name, _frozen(value)) for name, value in options.items()))
        hash(key)
    except TypeError:  # an option that cannot be a key: make the tasks every time
        return make_tasks(kind, n_tasks, n_train, n_test, dim, trials, seed, **options)
    with _TASKS_LOCK:  # sweeps may run on a thread pool
        kept = _TASKS.get(key)
    if kept is None:
        kept = make_tasks(kind, n_tasks, n_train, n_test, dim, trials, seed, **options)
    with _TASKS_LOCK:
        _TASKS[key] = kept
        _TASKS.move_to_end(key)
        while len(_TASKS) > KEPT_TASKS:
            _TASKS.popitem(last=False)
    return [_copied(task) for task in kept]


def _frozen(value: object) -> object:
    """A list or tuple of ints as a tuple (a key), anything else as it is."""
    return tuple(value) if isinstance(value, list | tuple) else value


def _copied(task: data.Task) -> data.Task:
    """The task with every tensor cloned."""
    fields = ("train_keys", "train_values", "test_keys", "test_values", "values")
    fields += ("train_targets", "test_targets", "centres")
    return data.Task(
        **{f: None if getattr(task, f) is None else getattr(task, f).clone() for f in fields}
    )


def _placed(memory: object, task: data.Task) -> data.Task:
    """The task's tensors on the memory's device and dtype."""
    fields = ("train_keys", "train_values", "test_keys", "test_values", "values")
    moved = place_like(memory, *(getattr(task, f) for f in fields))
    return data.Task(
        **dict(zip(fields, moved, strict=True)),
        train_targets=task.train_targets,
        test_targets=task.test_targets,
        centres=task.centres,
    )


def _scalars(options: dict) -> dict:
    """The generator options that fit in a frame column (numbers and strings)."""
    return {k: v for k, v in options.items() if isinstance(v, int | float | str)}


def forgetting(
    factory: Factory,
    steps: int | Sequence[int] = 20,
    trials: int = 16,
    dim: int = 32,
    seed: int = 0,
    *,
    kind: str = "clustered",
    n_train: int | Sequence[int] = 16,
    n_test: int | Sequence[int] | None = None,
    label: str | None = None,
    **options: object,
) -> pd.DataFrame:
    """Learn task A, test it, learn task B (no A data), test A again and test B.

    Each trial has a fresh memory and its own tasks (see :func:`make_tasks` for ``kind``,
    ``n_test`` and the generator ``options``). Learning a task is ``steps`` calls of
    ``update`` with all its train pairs; ``steps`` and ``n_train`` are one number for
    both tasks or a pair ``(A, B)``. Accuracy is the fraction of a test split whose
    read is nearest, by cosine, to its own value among the values of both tasks (the
    same candidates before and after B, so the difference is forgetting alone).

    Returns a tidy frame, one row per trial, with columns ``trial``, ``acc_A1`` (A right
    after learning A), ``acc_A2`` (A after learning B), ``forgetting`` (``acc_A1 -
    acc_A2``), ``acc_B`` (B after learning B), ``chance`` (one over the number of
    candidate values), ``diverged`` (a read of the trial was NaN or inf; such reads count
    as misses) and the parameters ``memory, kind, dim, n_train_A, n_train_B,
    n_test_A, n_test_B, steps_A, steps_B, seed`` and the scalar generator options.
    """
    memory, tasks, steps = _setup(
        factory, 2, steps, trials, dim, seed, kind, n_train, n_test, options
    )
    accuracy, score = _learn_in_turn(memory, tasks, steps)
    matrix = accuracy.transpose(0, 1)  # (trials, after task i, task j)
    frame = _two_task_frame(matrix[:, 0, 0], matrix[:, 1, 0], matrix[:, 1, 1], score)
    return frame.assign(**_parameters(factory, label, kind, dim, tasks, steps, seed, options))


def _two_task_frame(
    acc_a1: torch.Tensor, acc_a2: torch.Tensor, acc_b: torch.Tensor, score: _Scorer
) -> pd.DataFrame:
    """The score columns of :func:`forgetting`, one row per trial."""
    return pd.DataFrame(
        {
            "trial": range(acc_a1.shape[0]),
            "acc_A1": acc_a1.numpy(),
            "acc_A2": acc_a2.numpy(),
            "forgetting": (acc_a1 - acc_a2).numpy(),
            "acc_B": acc_b.numpy(),
            "chance": score.chance,
            "diverged": score.diverged.numpy(),
        }
    )


def _by_writes_setup(
    factory, writes_b, steps_a, trials, dim, seed, kind, n_train, n_test, options
) -> tuple[list[int], int, object, list[data.Task]]:
    """The checked counts ``writes_b`` and ``steps_a`` of the ``*_by_writes`` protocols,
    with the memory and the two tasks of a run up to the largest count."""
    writes_b = _validate.sequence(
        "writes_b", writes_b, _validate.positive_int, "positive ints", increasing=True
    )
    steps_a = _validate.positive_int("steps_a", steps_a)
    memory, tasks, _ = _setup(
        factory, 2, (steps_a, writes_b[-1]), trials, dim, seed, kind, n_train, n_test, options
    )
    return writes_b, steps_a, memory, tasks


def forgetting_by_writes(
    factory: Factory,
    writes_b: Sequence[int] = (1, 3, 10, 30, 100),
    steps_a: int = 20,
    trials: int = 16,
    dim: int = 32,
    seed: int = 0,
    *,
    kind: str = "clustered",
    n_train: int | Sequence[int] = 16,
    n_test: int | Sequence[int] | None = None,
    label: str | None = None,
    **options: object,
) -> pd.DataFrame:
    """:func:`forgetting` after each number of writes of B in ``writes_b``, B written once.

    One memory learns A (``steps_a`` writes), then B up to the largest count of
    ``writes_b`` (positive ints, increasing), and both tasks are tested after each count.
    A read changes no memory, so the rows of count ``s`` are those of ``forgetting(...,
    steps=(steps_a, s))`` (same tasks, memory and numbers) at the cost of one run. Returns
    their frames stacked in the order of ``writes_b`` (``steps_B`` is the count).
    """
    writes_b, steps_a, memory, tasks = _by_writes_setup(
        factory, writes_b, steps_a, trials, dim, seed, kind, n_train, n_test, options
    )
    score = _Scorer(tasks)
    write(memory, tasks[0].train_keys, tasks[0].train_values, steps_a)
    after_a = score(memory)[:, 0]
    frames = []
    for count in written(memory, tasks[1].train_keys, tasks[1].train_values, writes_b):
        after_b = score(memory)
        frame = _two_task_frame(after_a, after_b[:, 0], after_b[:, 1], score)
        parameters = _parameters(factory, label, kind, dim, tasks, [steps_a, count], seed, options)
        frames.append(frame.assign(**parameters))
    return pd.concat(frames, ignore_index=True)


def forgetting_trace(
    factory: Factory,
    steps: int | Sequence[int] = 20,
    trials: int = 16,
    dim: int = 32,
    seed: int = 0,
    *,
    kind: str = "clustered",
    n_train: int | Sequence[int] = 16,
    n_test: int | Sequence[int] | None = None,
    label: str | None = None,
    **options: object,
) -> pd.DataFrame:
    """The protocol of :func:`forgetting`, testing both tasks before and after every step.

    Same arguments, tasks and memory as :func:`forgetting` (so the same numbers at the
    end of each task). Returns a tidy frame, one row per trial, step and task tested,
    with columns ``trial``, ``step`` (0 before any write, then 1 to ``steps_A +
    steps_B``), ``learning`` (``"A"`` or ``"B"``: the task written at that step; ``"A"`` at
    step 0), ``task`` (``"A"`` or ``"B"``, the task tested), ``accuracy``, ``chance``,
    ``diverged`` and the parameters of :func:`forgetting`.
    """
    memory, tasks, steps = _setup(
        factory, 2, steps, trials, dim, seed, kind, n_train, n_test, options
    )
    accuracy, score = _learn_in_turn(memory, tasks, steps, every_step=True)
    points, trials = accuracy.shape[:2]
    index = torch.cartesian_prod(torch.arange(points), torch.arange(trials), torch.arange(2))
    step, tested = index[:, 0].numpy(), index[:, 2].numpy()
    frame = pd.DataFrame(
        {
            "trial": index[:, 1].numpy(),
            "step": step,
            "learning": ["A" if s <= steps[0] else "B" for s in step],
            "task": ["AB"[j] for j in tested],
            "accuracy": accuracy.reshape(-1).numpy(),
            "chance": score.chance,
            "diverged": score.diverged[index[:, 1]].numpy(),
        }
    )
    return frame.assign(**_parameters(factory, label, kind, dim, tasks, steps, seed, options))


def _parameters(factory, label, kind, dim, tasks, steps, seed, options) -> dict:
    """The parameter columns of a two-task frame."""
    return dict(
        memory=label_of(factory, label),
        kind=kind,
        dim=dim,
        n_train_A=tasks[0].n_train,
        n_train_B=tasks[1].n_train,
        n_test_A=tasks[0].n_test,
        n_test_B=tasks[1].n_test,
        steps_A=steps[0],
        steps_B=steps[1],
        seed=seed,
        **_scalars(options),
    )


def task_sequence(
    factory: Factory,
    n_tasks: int = 5,
    steps: int | Sequence[int] = 20,
    trials: int = 16,
    dim: int = 32,
    seed: int = 0,
    *,
    kind: str = "clustered",
    n_train: int | Sequence[int] = 16,
    n_test: int | Sequence[int] | None = None,
    label: str | None = None,
    **options: object,
) -> pd.DataFrame:
    """Learn ``n_tasks`` tasks one after another and test every task after each.

    The protocol of :func:`forgetting` for a sequence: ``steps`` and ``n_train`` are one
    number for all tasks or one per task, and accuracy is scored against the values of
    all the tasks. Returns a tidy frame, one row per trial, task learned and task
    tested, with columns ``trial``, ``after_task`` (the last task learned, 1 to
    ``n_tasks``), ``task`` (the task tested, 1 to ``n_tasks``), ``accuracy``, ``chance``,
    ``diverged`` (as in :func:`forgetting`) and the parameters ``memory, kind, dim,
    n_tasks, n_train, n_test, steps, seed`` (the sizes and steps of the task tested) and
    the scalar generator options.
    :func:`memnb.summaries.accuracy_matrix` turns it back into the matrix ``R[i, j]``.
    """
    n_tasks = _validate.positive_int("n_tasks", n_tasks)
    memory, tasks, steps = _setup(
        factory, n_tasks, steps, trials, dim, seed, kind, n_train, n_test, options
    )
    accuracy, score = _learn_in_turn(memory, tasks, steps)
    matrix = accuracy.transpose(0, 1)  # (trials, after task i, task j)
    trials = matrix.shape[0]
    index = torch.cartesian_prod(torch.arange(trials), torch.arange(n_tasks), torch.arange(n_tasks))
    tested = index[:, 2].numpy()
    frame = pd.DataFrame(
        {
            "trial": index[:, 0].numpy(),
            "after_task": index[:, 1].numpy() + 1,
            "task": tested + 1,
            "accuracy": matrix.reshape(-1).numpy(),
            "chance": score.chance,
            "diverged": score.diverged[index[:, 0]].numpy(),
        }
    )
    return frame.assign(
        memory=label_of(factory, label),
        kind=kind,
        dim=dim,
        n_tasks=n_tasks,
        n_train=[tasks[j].n_train for j in tested],
        n_test=[tasks[j].n_test for j in tested],
        steps=[steps[j] for j in tested],
        seed=seed,
        **_scalars(options),
    )


def span_retention(
    factory: Factory,
    steps: int | Sequence[int] = 20,
    trials: int = 16,
    dim: int = 32,
    seed: int = 0,
    *,
    kind: str = "clustered",
    n_train: int | Sequence[int] = 16,
    n_test: int | Sequence[int] | None = None,
    label: str | None = None,
    **options: object,
) -> pd.DataFrame:
    """Where does learning B change the read of A's keys: inside the span of B's keys or
    outside it?

    The tasks and steps are those of :func:`forgetting`. After learning A, each of A's
    test keys ``q`` is split into ``q_in``, its projection onto the span of B's train keys,
    and ``q_out = q - q_in``; the memory is read at both parts before and after learning
    B. For each part, with ``r0`` the reads before and ``r1`` after (summed over the test
    keys of a trial):

    - ``retained = <r1, r0> / |r0|^2``: how much of the old read survives (1: all of it);
    - ``changed = |r1 - r0| / |r0|``: how much the read moved, relative to its size.

    For a linear memory the read of ``q`` is the sum of the reads of its parts. Returns a
    tidy frame, one row per trial and part (``part`` is ``"in span of B"`` or
    ``"orthogonal to B"``; NaN where the part is zero, when B's keys span the whole
    space), with ``diverged`` (some read of the trial was NaN or inf, which makes its
    numbers NaN or inf) and the parameters of :func:`forgetting`.
    """
    memory, (task_a, task_b), n_steps = _setup(
        factory, 2, steps, trials, dim, seed, kind, n_train, n_test, options
    )
    parameters = (factory, label, kind, dim, seed, options)
    return _span_frames(memory, task_a, task_b, n_steps[0], n_steps[1:], dim, trials, parameters)


def span_retention_by_writes(
    factory: Factory,
    writes_b: Sequence[int] = (1, 3, 10, 30, 100),
    steps_a: int = 20,
    trials: int = 16,
    dim: int = 32,
    seed: int = 0,
    *,
    kind: str = "clustered",
    n_train: int | Sequence[int] = 16,
    n_test: int | Sequence[int] | None = None,
    label: str | None = None,
    **options: object,
) -> pd.DataFrame:
    """:func:`span_retention` after each number of writes of B in ``writes_b``.

    One memory learns A (``steps_a`` writes), then B up to the largest count of
    ``writes_b`` (positive ints, increasing), read after each count. A read changes no
    memory, so the rows of count ``s`` are those of ``span_retention(..., steps=(steps_a,
    s))`` (same tasks, memory and numbers) at the cost of one run. Returns their frames
    stacked in the order of ``writes_b`` (``steps_B`` is the count).
    """
    writes_b, steps_a, memory, (task_a, task_b) = _by_writes_setup(
        factory, writes_b, steps_a, trials, dim, seed, kind, n_train, n_test, options
    )
    parameters = (factory, label, kind, dim, seed, options)
    return _span_frames(memory, task_a, task_b, steps_a, writes_b, dim, trials, parameters)


def _span_frames(memory, task_a, task_b, steps_a, counts, dim, trials, parameters) -> pd.DataFrame:
    """The frames of :func:`span_retention` after each count of B's writes in ``counts``,
    stacked; ``parameters`` are ``(factory, label, kind, dim, seed, options)``."""
    factory, label, kind, dim, seed, options = parameters
    q = task_a.test_keys
    basis, _ = torch.linalg.qr(task_b.train_keys.double().transpose(-2, -1))
    spans_all = basis.shape[-1] >= dim  # B has at least d keys: nothing is orthogonal
    q_in = q if spans_all else (q.double() @ basis @ basis.transpose(-2, -1)).to(q.dtype)
    queries = torch.cat([q_in, q - q_in], dim=-2)
    shape = (*queries.shape[:-1], task_a.values.shape[-1])

    def parts() -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            return read(memory, queries, shape).double().split(q.shape[-2], dim=-2)

    write(memory, task_a.train_keys, task_a.train_values, steps_a)
    before = parts()
    frames = []
    for count in written(memory, task_b.train_keys, task_b.train_values, counts):
        reads = [before, parts()]
        finite = [torch.isfinite(r).all(dim=(-2, -1)) for r in (*reads[0], *reads[1])]
        diverged = (~torch.stack(finite)).any(dim=0).cpu().numpy()
        rows = []
        for part, old, new in zip(("in span of B", "orthogonal to B"), *reads, strict=True):
            size = old.pow(2).sum(dim=(-2, -1))
            empty = (size == 0) | (spans_all and part == "orthogonal to B")
            size = torch.where(empty, torch.nan, size)
            retained = (new * old).sum(dim=(-2, -1)) / size
            changed = ((new - old).pow(2).sum(dim=(-2, -1)) / size).sqrt()
            rows.append(
                pd.DataFrame(
                    {
                        "trial": range(trials),
                        "part": part,
                        "retained": retained.cpu().numpy(),
                        "changed": changed.cpu().numpy(),
                        "diverged": diverged,
                    }
                )
            )
        steps = [steps_a, count]
        frames.append(
            pd.concat(rows, ignore_index=True).assign(
                **_parameters(factory, label, kind, dim, [task_a, task_b], steps, seed, options)
            )
        )
    return pd.concat(frames, ignore_index=True)
