"""Time of decoding a training batch's ``[SEG]`` prompts with SAM's mask decoder, forward and
backward: one ``SamParts.decode`` pass over every prompt (each on its own frame) against one call
of SAM's ``MaskDecoder`` per frame (``multimask_output=False``), the way LISA and VISA decode.

Both decode the same random image embeddings and prompts; the benchmark checks that they give the
same logits and the same prompt gradients (float tolerance), then prints both times per batch and
their ratio::

    .venv/bin/python benchmarks/mask_decoding.py [--frames 4] [--prompts-per-frame 1] [--sam tiny]

``--sam tiny`` is the ``tiny`` preset's SAM (32 channels, 16 x 16 embeddings: the default run);
``--sam vit_h`` is ``sam_vit_h_4b8939.pth``'s decoder (256 channels, 64 x 64 embeddings; its image
encoder is built with one block, as the benchmark never runs it).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch

from timing import print_comparison, seconds_per_call
from visa_core.model.configuration import SAM_DEFAULTS
from visa_core.model.presets import preset_config
from visa_core.model.sam import SamParts

DecodeFunction = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def sam_config(name: str) -> dict:
    """The SAM shapes the benchmark builds (see the module docstring)."""
    if name == "tiny":
        return preset_config("tiny").sam_config
    return {**SAM_DEFAULTS, "encoder_depth": 1, "encoder_global_attn_indexes": [0]}


def per_frame(sam: SamParts) -> DecodeFunction:
    """SAM's ``MaskDecoder`` called once per frame with that frame's prompts (``frame_of_prompt``
    sorted, as a collated batch orders them)."""

    def decode(
        embeddings: torch.Tensor, prompts: torch.Tensor, frame_of_prompt: torch.Tensor
    ) -> torch.Tensor:
        frames, counts = frame_of_prompt.unique_consecutive(return_counts=True)
        logits = []
        for frame, frame_prompts in zip(frames.tolist(), prompts.split(counts.tolist()), strict=True):
            masks, _ = sam.mask_decoder(
                image_embeddings=embeddings[frame : frame + 1],
                image_pe=sam.prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=frame_prompts.unsqueeze(1),
                dense_prompt_embeddings=sam.prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1),
                multimask_output=False,
            )
            logits.append(masks[:, 0])
        return torch.cat(logits)

    return decode


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=4, help="target frames in the batch (rows)")
    parser.add_argument("--prompts-per-frame", type=int, default=1, help="[SEG] tokens per row")
    parser.add_argument("--sam", choices=("tiny", "vit_h"), default="tiny")
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the default run: 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sam = SamParts(sam_config(args.sam))
    channels, side = sam.mask_decoder.transformer_dim, sam.prompt_encoder.image_embedding_size[0]
    embeddings = torch.randn(args.frames, channels, side, side)
    frame_of_prompt = torch.arange(args.frames).repeat_interleave(args.prompts_per_frame)
    prompts = torch.randn(len(frame_of_prompt), channels, requires_grad=True)
    inputs = (embeddings, prompts, frame_of_prompt)

    decoders = {"per-frame MaskDecoder": per_frame(sam), "one decode pass": sam.decode}
    results = {}
    for name, decode in decoders.items():
        prompts.grad = None
        logits = decode(*inputs)
        logits.square().mean().backward()
        results[name] = (logits.detach(), prompts.grad.clone())
    (logits_a, grad_a), (logits_b, grad_b) = results.values()
    torch.testing.assert_close(logits_b, logits_a)
    torch.testing.assert_close(grad_b, grad_a)

    seconds = {
        name: seconds_per_call(lambda decode=decode: decode(*inputs).sum().backward(), args.repeats, warmup=3)
        for name, decode in decoders.items()
    }
    print(
        f"SAM {args.sam}: {args.frames} frames x {args.prompts_per_frame} prompt(s), {channels} channels, "
        f"{side} x {side} embeddings, {args.threads} thread(s)"
    )
    print_comparison(
        seconds, "per-frame MaskDecoder", "forward + backward", "same logits and prompt gradients"
    )


if __name__ == "__main__":
    main()
