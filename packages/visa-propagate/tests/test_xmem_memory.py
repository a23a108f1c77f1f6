"""XMem's memory: similarity, top-k read, working-memory limits, long-term consolidation."""

from __future__ import annotations

import math

import pytest
import torch

from visa_propagate.xmem.inference import PropagationRun, RunSettings, encode_frame, pad_to_multiple, unpad
from visa_propagate.xmem.memory import (
    KeyValueStore,
    MemoryManager,
    MemorySettings,
    similarity,
    top_k_softmax,
)
from visa_propagate.xmem.network import XMemDims, aggregate, build_random_network

KEY_DIM, VALUE_DIM, OBJECTS, HW = 4, 3, 2, 6


def frame(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Key, shrinkage, selection and value of one memory frame of ``HW`` elements."""
    generator = torch.Generator().manual_seed(seed)
    key = torch.randn(KEY_DIM, HW, generator=generator)
    shrinkage = torch.rand(1, HW, generator=generator) + 1
    selection = torch.rand(KEY_DIM, HW, generator=generator)
    value = torch.randn(OBJECTS, VALUE_DIM, HW, generator=generator)
    return key, shrinkage, selection, value


def test_similarity_is_the_shrunk_selected_negative_distance() -> None:
    key, shrinkage, _, _ = frame(0)
    query, query_selection = torch.randn(KEY_DIM, 5), torch.rand(KEY_DIM, 5)
    expected = torch.empty(HW, 5)
    for m in range(HW):
        for q in range(5):
            distance = (query_selection[:, q] * (key[:, m] - query[:, q]) ** 2).sum()
            expected[m, q] = -distance * shrinkage[0, m] / math.sqrt(KEY_DIM)
    assert torch.allclose(similarity(key, shrinkage, query, query_selection), expected, atol=1e-5)


def test_similarity_without_selection_drops_the_query_norm() -> None:
    key, _, _, _ = frame(1)
    query = torch.randn(KEY_DIM, 3)
    expected = (-(key.pow(2).sum(0))[:, None] + 2 * key.T @ query) / math.sqrt(KEY_DIM)
    assert torch.allclose(similarity(key, None, query, None), expected, atol=1e-5)


def test_top_k_softmax_keeps_k_entries_per_query() -> None:
    sim = torch.randn(50, 7)
    affinity = top_k_softmax(sim, top_k=5)
    assert torch.allclose(affinity.sum(0), torch.ones(7))
    assert ((affinity > 0).sum(0) == 5).all()
    assert torch.equal(affinity.argmax(0), sim.argmax(0))
    assert torch.allclose(top_k_softmax(sim[:3], top_k=30), torch.softmax(sim[:3], 0)), "k clamps to M"


def test_store_removes_the_least_used_elements() -> None:
    store = KeyValueStore()
    key, shrinkage, _, value = frame(2)
    store.add(key, shrinkage, None, value)
    store.record_usage(torch.tensor([0.5, 0.1, 0.9, 0.2, 0.8, 0.3]))
    store.remove_least_used(3)
    assert store.size == 3
    assert torch.equal(store.key, key[:, [0, 2, 4]])
    assert torch.equal(store.value, value[:, :, [0, 2, 4]])


def test_read_of_a_single_element_returns_its_value() -> None:
    manager = MemoryManager(MemorySettings())
    key, shrinkage, selection, value = frame(3)
    manager.add(key[:, :1], shrinkage[:, :1], selection[:, :1], value[:, :, :1])
    readout = manager.read(torch.randn(KEY_DIM, 4), torch.rand(KEY_DIM, 4))
    assert readout.shape == (OBJECTS, VALUE_DIM, 4)
    assert torch.allclose(readout, value[:, :, :1].expand(-1, -1, 4))


def small_settings(**changes) -> MemorySettings:
    options = {
        "top_k": 4,
        "min_working_frames": 2,
        "max_working_frames": 4,
        "num_prototypes": 3,
        "max_long_term_elements": 8,
        **changes,
    }
    return MemorySettings(**options)


def test_working_memory_is_consolidated_when_full() -> None:
    manager = MemoryManager(small_settings())
    frames = [frame(10 + i) for i in range(4)]
    for i, (key, shrinkage, selection, value) in enumerate(frames[:3]):
        manager.add(key, shrinkage, selection, value)
        manager.read(frame(100 + i)[0], frame(100 + i)[2])
    assert manager.working.size == 3 * HW and manager.long_term.size == 0
    usage = manager.working.usage()
    manager.add(*frames[3])
    # The prompt frame and the newest (T_min - 1) frame stay; frames 1-2 become 3 prototypes.
    assert manager.working.size == 2 * HW
    assert torch.equal(manager.working.key, torch.cat([frames[0][0], frames[3][0]], 1))
    assert manager.long_term.size == 3
    candidates = torch.cat([frames[1][0], frames[2][0]], 1)
    chosen = torch.topk(usage[HW : 3 * HW], k=3).indices
    assert torch.equal(manager.long_term.key, candidates[:, chosen])
    assert manager.long_term.selection is None
    # Potentiation: prototype values are softmax-weighted averages of all candidates' values.
    selections = torch.cat([frames[1][2], frames[2][2]], 1)[:, chosen]
    shrinkages = torch.cat([frames[1][1], frames[2][1]], 1)
    affinity = torch.softmax(similarity(candidates, shrinkages, candidates[:, chosen], selections), 0)
    values = torch.cat([frames[1][3], frames[2][3]], 2)
    assert torch.allclose(manager.long_term.value, values @ affinity, atol=1e-5)
    assert torch.allclose(manager.long_term.shrinkage, shrinkages @ affinity, atol=1e-5)


def test_memory_stays_within_its_limits_on_long_runs() -> None:
    settings = small_settings()
    manager = MemoryManager(settings)
    for i in range(40):
        manager.add(*frame(i))
        manager.read(frame(500 + i)[0], frame(500 + i)[2])
        assert manager.working.size < settings.max_working_frames * HW
        assert manager.long_term.size <= settings.max_long_term_elements
    assert manager.long_term.size > 0
    assert torch.equal(manager.working.key[:, :HW], frame(0)[0]), "the prompt frame is never consolidated"


def test_without_long_term_memory_the_working_memory_grows() -> None:
    manager = MemoryManager(small_settings(long_term=False))
    for i in range(6):
        manager.add(*frame(i))
    assert manager.working.size == 6 * HW and manager.long_term.size == 0


def test_aggregate_puts_the_background_first_and_sums_to_one() -> None:
    prob = torch.tensor([[[0.9, 0.0]], [[0.0, 0.0]]])
    out = aggregate(prob, dim=0)
    assert out.shape == (3, 1, 2)
    assert torch.allclose(out.sum(0), torch.ones(1, 2))
    assert out[:, 0, 0].argmax() == 1 and out[:, 0, 1].argmax() == 0


def test_padding_round_trip() -> None:
    tensor = torch.randn(2, 33, 50)
    padded, pads = pad_to_multiple(tensor)
    assert padded.shape == (2, 48, 64)
    assert torch.equal(unpad(padded, pads), tensor)


@pytest.mark.parametrize("mem_every", [1, 2, 3])
def test_run_stores_a_memory_frame_every_mem_every_frames(mem_every: int) -> None:
    network = build_random_network(XMemDims.tiny(), seed=0)
    run = PropagationRun(network, RunSettings(mem_every=mem_every, memory=small_settings(long_term=False)), 1)
    mask = torch.zeros(1, 32, 32)
    mask[0, 8:20, 8:20] = 1
    with torch.inference_mode():
        frame = encode_frame(network, torch.randn(3, 32, 32))
        run.step(frame, mask)
        for t in range(1, 7):
            prob = run.step(frame, last=t == 6)
            assert prob.shape == (2, 32, 32)
    frames_stored = run.memory.working.size // 4  # 32x32 -> 2x2 elements per frame
    assert frames_stored == 1 + (5 // mem_every), "no memory on the last frame"
    assert run.memory.hidden is not None and run.memory.hidden.shape == (1, 1, 4, 2, 2)


def test_first_frame_of_a_run_needs_masks() -> None:
    network = build_random_network(XMemDims.tiny(), seed=0)
    run = PropagationRun(network, RunSettings(), 1)
    with pytest.raises(ValueError, match="first frame"):
        run.step(encode_frame(network, torch.randn(3, 16, 16)))
