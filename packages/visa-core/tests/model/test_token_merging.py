from __future__ import annotations

import pytest
import torch

from visa_core.model.token_merging import (
    carry_through,
    dpc_knn_assign,
    merge_by_assignment,
    merge_levels,
    merge_tokens,
)


def test_real_sizes_give_112_tokens_deterministically():
    x = torch.randn(2, 256, 16, generator=torch.Generator().manual_seed(0))
    first = merge_tokens(x, (64, 32, 16), (5, 3, 3))
    second = merge_tokens(x, (64, 32, 16), (5, 3, 3))
    assert first.shape == (2, 112, 16)
    assert torch.equal(first, second)


def test_well_separated_groups_merge_into_their_means():
    centres = torch.tensor([[10.0, 0.0], [0.0, 10.0], [-10.0, -10.0]])
    noise = 0.01 * torch.randn(3, 5, 2, generator=torch.Generator().manual_seed(1))
    x = (centres[:, None, :] + noise).reshape(1, 15, 2)
    assignment = dpc_knn_assign(x, 3, k=3)
    groups = [set(assignment[0, i * 5 : (i + 1) * 5].tolist()) for i in range(3)]
    assert all(len(g) == 1 for g in groups) and len(set.union(*groups)) == 3
    merged = merge_by_assignment(x, assignment, 3)[0]
    for i in range(3):
        cluster = next(iter(groups[i]))
        assert torch.allclose(merged[cluster], x[0, i * 5 : (i + 1) * 5].mean(0), atol=1e-4)


def test_merging_is_differentiable_and_rejects_too_many_clusters():
    x = torch.randn(1, 16, 4, requires_grad=True)
    merge_tokens(x, (4, 2), (5, 3)).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    with pytest.raises(ValueError, match="cannot merge 16 tokens into 32"):
        merge_tokens(torch.randn(1, 16, 4), (32,), (5,))


def test_values_carried_through_the_levels_merge_like_the_tokens():
    x = torch.randn(2, 64, 8, generator=torch.Generator().manual_seed(2))
    levels = merge_levels(x, (16, 8, 4), (5, 3, 3))
    torch.testing.assert_close(carry_through(x, levels), merge_tokens(x, (16, 8, 4), (5, 3, 3)))
    positions = torch.rand(2, 64, 2, generator=torch.Generator().manual_seed(3))
    assert carry_through(positions, levels).shape == (2, 28, 2)
    assert carry_through(positions, []) is positions
