"""The optimizers of the slot memories: Adam and plain SGD, as torch.optim takes them.

``Adam`` and ``SGD`` take exactly the steps of ``torch.optim.Adam`` and
``torch.optim.SGD`` with ``foreach=False`` (torch's single-tensor updates, the same
operations in the same order, so the same numbers to the last bit; a test holds them
to it) for the options the memories use: Adam with betas, eps and no weight decay,
SGD without momentum. They keep torch's interface where a memory or its subclass
touches it: ``param_groups``, ``add_param_group``, ``state``, ``zero_grad`` and
``step``.

Why not torch's classes: constructing any ``torch.optim`` optimizer imports
``torch._dynamo`` (torch's compiler, about 1.4 s of CPU time on a small machine), and
each of its steps goes through bookkeeping that costs more than the update itself on a
memory's few small tensors. Neither buys anything for a memory that never compiles.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


class Optimizer:
    """Parameter groups of tensors updated in place from their ``.grad``."""

    def __init__(self, params: Iterable[torch.Tensor], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[torch.Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        self.add_param_group({"params": params})

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add ``group`` (a dict with ``"params"``; missing settings take the defaults)."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"a parameter group must be a dict with 'params', got {group!r:.60}")
        params = group["params"]
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        if not params:
            raise ValueError("a parameter group needs at least one tensor, got none")
        known = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, torch.Tensor):
                raise TypeError(f"parameters must be tensors, got {type(p).__name__}")
            if id(p) in known:
                raise ValueError("a parameter appears in more than one group")
            known.add(id(p))
        self.param_groups.append({**self.defaults, **group, "params": params})

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (or zero it with ``set_to_none=False``)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad, group)

    def _update(self, p: torch.Tensor, grad: torch.Tensor, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The state and settings in torch's layout: parameters named by their position."""
        params = [p for group in self.param_groups for p in group["params"]]
        index = {id(p): i for i, p in enumerate(params)}
        groups = [
            {
                **{k: v for k, v in g.items() if k != "params"},
                "params": [index[id(p)] for p in g["params"]],
            }
            for g in self.param_groups
        ]
        state = {
            index[id(p)]: {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in s.items()}
            for p, s in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the state and settings of :meth:`state_dict` (same groups, same sizes)."""
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if groups is None or len(groups) != len(self.param_groups):
            raise ValueError("state_dict does not hold this optimizer's parameter groups")
        params = [p for group in self.param_groups for p in group["params"]]
        for group, saved in zip(self.param_groups, groups, strict=True):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError("state_dict's groups hold other numbers of parameters")
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {
            params[i]: {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in s.items()}
            for i, s in state_dict["state"].items()
        }

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({settings})"


class SGD(Optimizer):
    """``p <- p - lr * grad``."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float) -> None:
        super().__init__(params, {"lr": lr})

    def _update(self, p: torch.Tensor, grad: torch.Tensor, group: dict[str, Any]) -> None:
        p.add_(grad, alpha=-group["lr"])


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with torch's bias corrections and epsilon placement:
    ``m <- lerp(m, g, 1 - b1)``, ``v <- b2 v + (1 - b2) g^2``, and at step t
    ``p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``."""

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})
        self._denominators: dict[torch.Tensor, torch.Tensor] = {}

    def _update(self, p: torch.Tensor, grad: torch.Tensor, group: dict[str, Any]) -> None:
        state = self.state.get(p)
        if state is None:
            zeros = torch.zeros_like(p, memory_format=torch.preserve_format)
            state = self.state[p] = {"step": 0.0, "exp_avg": zeros, "exp_avg_sq": zeros.clone()}
        state["step"] += 1
        step, (beta1, beta2) = state["step"], group["betas"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = self._denominators.get(p)  # kept between steps: see EpisodicMemory._scratch
        if denom is None or denom.shape != p.shape or denom.dtype != p.dtype:
            denom = self._denominators[p] = torch.empty_like(exp_avg_sq)
        torch.sqrt(exp_avg_sq, out=denom).div_((1 - beta2**step) ** 0.5).add_(group["eps"])
        p.addcdiv_(exp_avg, denom, value=-group["lr"] / (1 - beta1**step))
