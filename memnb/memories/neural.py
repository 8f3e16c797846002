"""Neural memory: an MLP whose weights are the memory, written by gradient steps (Titans)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import ClassVar

import torch
from torch.nn import functional

from .. import _validate
from .base import BatchedMemory, init_generator, per_trial_mse

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "silu": functional.silu,
    "relu": functional.relu,
    "tanh": torch.tanh,
}


# The gradient at each activation's input h from the gradient at its output out = f(h),
# by the kernels autograd itself calls.
_BACKWARD: dict[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "silu": lambda grad, h, out: torch.ops.aten.silu_backward(grad, h),
    "relu": lambda grad, h, out: torch.ops.aten.threshold_backward(grad, out, 0),
    "tanh": lambda grad, h, out: torch.ops.aten.tanh_backward(grad, out),
}


def _unit_interval(name: str, value: object) -> float:
    """Return ``value`` as a float in ``[0, 1)``, or raise naming ``name``."""
    value = _validate.positive_float(name, value, allow_zero=True)
    if value >= 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value}")
    return value


class NeuralMemory(BatchedMemory):
    """A memory whose content is the weights of an MLP ``M``, learned at test time.

    Read: ``M(q) = W_L f(... f(W_1 q))``, ``depth = L`` bias-free linear layers with the
    activation ``f`` between them (``depth=1`` is a linear memory ``W_1 q``).

    Write: ``update(keys, values)`` is one step of momentum gradient descent with weight
    decay on the per-trial loss ``l = mean over items and features of (M(k) - v)^2``,
    as in the long-term memory of Titans (Behrouz et al., 2024)::

        S_t = momentum * S_{t-1} - lr * grad_W l     (the "surprise", kept per layer)
        W_t = (1 - decay) * W_{t-1} + S_t            (decay: forgetting)

    Titans makes ``lr``, ``momentum`` and ``decay`` functions of the input; here they are
    constants. With ``trials=T`` every layer is one tensor ``(T, fan_out, fan_in)`` used
    in batched matrix products, and the gradient is that of the *sum* of the T per-trial
    losses, so each trial gets exactly the gradient it would have alone. The gradient is
    the backward pass written out (:meth:`_gradients`, autograd's numbers to float
    rounding), so a write works inside ``torch.no_grad()`` and no graph links one write
    to the next.

    Initial state: hidden layers have independent normal entries of variance
    ``1 / fan_in`` (a standard normal key gives hidden units of about unit variance);
    the output layer and all surprise terms are zero, so before any write every query
    returns zero. With ``depth=1``, ``momentum=0`` and ``decay=0`` the write is therefore
    exactly the delta rule of :class:`DeltaRuleMemory` with step ``2 * lr / (N * value_dim)``.

    Defaults: ``lr=0.2``, ``momentum=0.5``, ``decay=0``, ``width=2 * dim``. Written over
    and over with one standard normal pair, the mean read error (64 trials, ``dim=32``,
    :func:`memnb.experiments.adaptation` with ``seed=0``) falls by 90 % at the third
    write, checked in the tests. The loss is a mean over features and the default width
    grows with ``dim``, so the size of a step does not grow with the dimension. A larger momentum
    (Titans-like 0.9) carries earlier surprise too far on one repeated pair: the read
    overshoots and rings unless ``lr`` is made much smaller.

    ``update`` returns the per-trial loss just before the write.

    Args:
        dim: key dimension d.
        depth: number of linear layers L (>= 1).
        width: hidden units per hidden layer (None: ``2 * dim``); unused when ``depth=1``.
        lr: step size of the gradient (> 0).
        momentum: how much of the previous surprise is kept, in ``[0, 1)``.
        decay: fraction of the weights forgotten at each write, in ``[0, 1)``.
        trials: None for one memory with inputs ``(N, d)``, or T independent memories
            with inputs ``(T, N, d)``.
        value_dim: value dimension (defaults to ``dim``).
        activation: ``"silu"``, ``"relu"`` or ``"tanh"``.
        seed: an int or ``torch.Generator`` for the initial weights (None: torch's global RNG).
        device, dtype: where the weights live and their floating-point type.
    """

    # Grids around the defaults; depth, width and activation (the architecture) are
    # not tuned.
    hyperparameters: ClassVar[Mapping[str, tuple]] = MappingProxyType(
        {
            "lr": (0.05, 0.1, 0.2, 0.5, 1.0),
            "momentum": (0.0, 0.5, 0.9),
            "decay": (0.0, 0.01, 0.1),
        }
    )

    def __init__(
        self,
        dim: int,
        depth: int = 2,
        width: int | None = None,
        lr: float = 0.2,
        momentum: float = 0.5,
        decay: float = 0.0,
        trials: int | None = None,
        *,
        value_dim: int | None = None,
        activation: str = "silu",
        seed: int | torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(dim, value_dim, trials)
        self.depth = _validate.positive_int("depth", depth)
        self.width = 2 * self.key_dim if width is None else _validate.positive_int("width", width)
        self.lr = _validate.positive_float("lr", lr)
        self.momentum = _unit_interval("momentum", momentum)
        self.decay = _unit_interval("decay", decay)
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.activation = activation
        _validate.float_dtype("dtype", dtype)
        _validate.torch_device("device", device)
        gen = init_generator(seed)
        sizes = [self.key_dim] + [self.width] * (self.depth - 1) + [self.value_dim]
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            shape = (self.n_trials, fan_out, fan_in)
            if i < self.depth - 1:
                weight = torch.randn(shape, generator=gen, dtype=dtype) / math.sqrt(fan_in)
            else:
                weight = torch.zeros(shape, dtype=dtype)
            self.register_buffer(f"weight_{i}", weight.to(device))
            self.register_buffer(f"surprise_{i}", torch.zeros_like(weight, device=device))

    @property
    def weights(self) -> list[torch.Tensor]:
        """The layers' weights, first to last, each ``(T, fan_out, fan_in)``."""
        return [getattr(self, f"weight_{i}") for i in range(self.depth)]

    @property
    def surprises(self) -> list[torch.Tensor]:
        """The layers' momentum (surprise) terms, shaped like :attr:`weights`."""
        return [getattr(self, f"surprise_{i}") for i in range(self.depth)]

    def _state(self) -> torch.Tensor:
        return self.weight_0

    def state_size(self) -> int:
        """Floats one trial holds: the MLP's parameter count, ``sum fan_out x fan_in``.

        The momentum (surprise) terms, one per weight, are optimizer state and not counted.
        """
        return sum(w.shape[-2] * w.shape[-1] for w in self.weights)

    def _mlp(self, x: torch.Tensor, weights: list[torch.Tensor]) -> torch.Tensor:
        act = ACTIVATIONS[self.activation]
        for i, weight in enumerate(weights):
            x = x @ weight.transpose(-2, -1)
            if i < len(weights) - 1:
                x = act(x)
        return x

    def _read(self, q: torch.Tensor) -> torch.Tensor:
        return self._mlp(q, self.weights)

    def _write(self, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            per_trial, grads = self._gradients(k, v)
            for weight, surprise, grad in zip(self.weights, self.surprises, grads, strict=True):
                surprise.mul_(self.momentum).sub_(self.lr * grad)
                weight.mul_(1.0 - self.decay).add_(surprise)
        return per_trial

    def _gradients(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, list]:
        """The per-trial loss ``(T,)`` and the gradient of its sum with respect to each
        layer's weights, first to last.

        The backward pass autograd would run, written out: with layer inputs ``x_i``,
        pre-activations ``h_i = x_i W_i^T`` and ``x_{i+1} = f(h_i)``, the gradient at the
        read ``g_L`` gives ``grad W_i = g_i^T x_i`` and ``g_{i-1} = (g_i W_i) * f'(h_{i-1})``,
        with autograd's formula for ``f'``. The results differ from autograd's by float
        rounding only (checked in the tests).
        """
        act, slope = ACTIVATIONS[self.activation], _BACKWARD[self.activation]
        weights, inputs, before = self.weights, [k], []
        for weight in weights[:-1]:
            before.append(inputs[-1] @ weight.transpose(-2, -1))
            inputs.append(act(before[-1]))
        read = inputs[-1] @ weights[-1].transpose(-2, -1)
        per_trial = per_trial_mse(read, v)
        grad = (read - v).mul_(2.0 / (v.shape[-2] * v.shape[-1]))  # the mean's gradient
        grads = [(inputs[-1].transpose(-2, -1) @ grad).transpose(-2, -1)]
        for i in range(len(weights) - 2, -1, -1):
            grad = slope(grad @ weights[i + 1], before[i], inputs[i + 1])
            grads.append((inputs[i].transpose(-2, -1) @ grad).transpose(-2, -1))
        return per_trial, grads[::-1]

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, depth={self.depth}, width={self.width}, lr={self.lr}, "
            f"momentum={self.momentum}, decay={self.decay}, activation={self.activation!r}"
        )
