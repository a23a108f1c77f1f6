"""``VisaForSegmentation``: CLIP frames -> DPC-KNN merging -> projector -> Llama; ``[SEG]`` states ->
``text_hidden_fcs`` -> SAM mask decoder on the target frame."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from transformers import CLIPVisionModel, LlamaForCausalLM, PreTrainedModel

from visa_core.model.attention import default_attention_implementation
from visa_core.model.configuration import VisaConfig
from visa_core.model.image_processing import longest_side_shape
from visa_core.model.lora import LoraSettings, inject_lora, merge_lora, set_trainable_parameters
from visa_core.model.losses import mask_losses
from visa_core.model.outputs import SegmentationOutput, VisaOutput
from visa_core.model.position_table import init_clip_positions
from visa_core.model.sam import SamParts
from visa_core.model.sequence import ExpandedSequence, expand_images, seg_state_positions
from visa_core.model.token_merging import carry_through, concat_levels, merge_levels, merge_tokens
from visa_core.model.tokenization import IGNORE_INDEX
from visa_core.types import Turn

logger = logging.getLogger(__name__)


class VisaForSegmentation(PreTrainedModel):
    """The VISA model (Hugging Face ``PreTrainedModel``; ``save_pretrained`` / ``from_pretrained``)."""

    config_class = VisaConfig
    base_model_prefix = "visa"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _no_split_modules = ["LlamaDecoderLayer", "CLIPEncoderLayer"]  # noqa: RUF012
    _keep_in_fp32_modules_strict = list(SamParts.FLOAT32_BUFFERS)  # noqa: RUF012

    def __init__(self, config: VisaConfig) -> None:
        super().__init__(config)
        if config.text_config._attn_implementation_internal is None:
            config.text_config._attn_implementation = default_attention_implementation()
        self.language_model = LlamaForCausalLM(config.text_config)
        self.vision_tower = CLIPVisionModel(config.vision_config)
        self.mm_projector = nn.Linear(config.mm_hidden_size, config.hidden_size)
        hidden = config.hidden_size
        self.text_hidden_fcs = nn.Sequential(
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, config.out_dim),
            nn.Dropout(0.0),
        )
        self.sam = SamParts(config.sam_config)
        self._natively_initialised = {id(m) for m in (*self.sam.modules(), *self.text_hidden_fcs.modules())}
        self.post_init()
        init_clip_positions(
            self.vision_tower.embeddings.position_embedding, config.patch_grid
        )  # loading replaces it
        self.vision_tower.requires_grad_(False)
        self.mm_projector.requires_grad_(False)
        self.sam.image_encoder.requires_grad_(False)
        self.sam.prompt_encoder.requires_grad_(False)
        if config.lora is not None:
            inject_lora(self.language_model, LoraSettings.from_dict(config.lora))
            set_trainable_parameters(self)

    def _init_weights(self, module: nn.Module) -> None:
        """Hugging Face initialisation for the LLM and CLIP; SAM and ``text_hidden_fcs`` keep their
        own PyTorch / segment-anything initialisation, as in the original (measured: HF's std 0.02
        re-init of them slows a from-scratch mask decoder, IoU 0.39 vs 0.52 after 400 steps)."""
        if id(module) not in getattr(self, "_natively_initialised", ()):
            super()._init_weights(module)

    @classmethod
    def from_pretrained(cls, *args: Any, **kwargs: Any) -> VisaForSegmentation:
        """``PreTrainedModel.from_pretrained``; the LLM's attention defaults to flash-attention 2
        when CUDA and flash-attn are available, else SDPA."""
        if "attn_implementation" not in kwargs:
            config = kwargs.get("config") or VisaConfig.from_pretrained(args[0])
            config.text_config._attn_implementation = default_attention_implementation()
            kwargs["config"] = config
        return super().from_pretrained(*args, **kwargs)

    # ------------------------------------------------------------------ pieces
    def patch_features(self, clip_pixel_values: torch.Tensor) -> torch.Tensor:
        """CLIP pixels ``[I, 3, s, s]`` -> the selected layer's patch tokens ``[I, num_patches, C]``
        (row-major patches, class token dropped)."""
        out = self.vision_tower(
            pixel_values=clip_pixel_values.to(self.vision_tower.dtype), output_hidden_states=True
        )
        return out.hidden_states[self.config.mm_vision_select_layer][:, 1:]

    def encode_frames(self, clip_pixel_values: torch.Tensor) -> torch.Tensor:
        """CLIP pixels ``[I, 3, s, s]`` -> merged, projected frame tokens ``[I, tokens_per_image, H]``."""
        config = self.config
        patches = self.patch_features(clip_pixel_values)
        merged = merge_tokens(patches, config.cluster_sizes, config.cluster_knn, config.cluster_density_noise)
        return self.mm_projector(merged.to(self.mm_projector.weight.dtype))

    def frame_token_positions(self, clip_pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`encode_frames`' tokens ``[I, T, H]`` and where each lies, ``[I, T, 2]``: the mean
        ``(x, y)`` of its patches' centres, in frame widths and heights (0 to 1). For diagnostics."""
        config = self.config
        patches = self.patch_features(clip_pixel_values)
        levels = merge_levels(patches, config.cluster_sizes, config.cluster_knn, config.cluster_density_noise)
        merged = concat_levels(patches, levels)
        grid = config.patch_grid
        centres = (torch.arange(grid, dtype=torch.float32, device=patches.device) + 0.5) / grid
        rows, cols = torch.meshgrid(centres, centres, indexing="ij")
        xy = torch.stack([cols.reshape(-1), rows.reshape(-1)], dim=1).expand(patches.shape[0], -1, -1)
        tokens = self.mm_projector(merged.to(self.mm_projector.weight.dtype))
        return tokens, carry_through(xy.contiguous(), levels)

    def frame_tokens(self, processor: Any, frames: Sequence[np.ndarray]) -> torch.Tensor:
        """Merged, projected LLM tokens ``[I, tokens_per_image, H]`` of ``uint8[H, W, 3]`` frames
        (CLIP tower, token merging and projector; each frame independent, so cacheable per frame)."""
        return self.encode_frames(processor.clip_pixels(frames).to(self.device))

    def expand(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None,
        labels: torch.Tensor | None,
        clip_pixel_values: torch.Tensor | None,
        image_features: torch.Tensor | None = None,
        image_index: torch.Tensor | None = None,
    ) -> ExpandedSequence:
        """Text embeddings with every ``<image>`` replaced by its frame tokens (see ``expand_images``).

        ``image_features`` ``[I, tokens_per_image, H]`` (from :meth:`frame_tokens`) replaces the CLIP
        pass over ``clip_pixel_values`` when given. ``image_index`` ``long[placeholders]`` picks the
        frame of each ``<image>`` (rows sharing frames); by default the frames follow in order.
        """
        hidden = self.config.hidden_size
        if image_features is not None:
            features = image_features.to(self.device)
        elif clip_pixel_values is not None and clip_pixel_values.shape[0] > 0:
            features = self.encode_frames(clip_pixel_values.to(self.device))
        else:
            features = torch.zeros(0, self.config.tokens_per_image, hidden, device=self.device)
        if image_index is not None:
            features = features[image_index.to(features.device)]
        return expand_images(
            input_ids.to(self.device),
            None if attention_mask is None else attention_mask.to(self.device),
            None if labels is None else labels.to(self.device),
            features,
            self.config.image_token_id,
            self.language_model.get_input_embeddings(),
        )

    def project_seg(self, hidden_states: torch.Tensor, sequence: ExpandedSequence) -> list[torch.Tensor]:
        """Per sample, ``text_hidden_fcs`` of the states before each ``[SEG]`` -> ``[N_b, out_dim]``."""
        positions = seg_state_positions(sequence, self.config.seg_token_id)
        return [self.text_hidden_fcs(hidden_states[row, pos]) for row, pos in enumerate(positions)]

    def _masks_for_batch(
        self,
        seg_embeddings: list[torch.Tensor],
        sam_pixel_values: torch.Tensor | None,
        target_index: torch.Tensor,
        resized_sizes: Sequence[tuple[int, int] | None] | None,
        original_sizes: Sequence[tuple[int, int] | None] | None,
    ) -> list[torch.Tensor]:
        """Per row, mask logits ``[N_b, H, W]`` of its ``N_b`` prompts on its target frame, at the
        row's original size (``[0, 0, 0]`` for a row without target); one decoder pass serves the
        whole batch."""
        embeddings = None
        if sam_pixel_values is not None and len(sam_pixel_values):
            embeddings = self.sam.encode_images(sam_pixel_values.to(self.device, self.sam_dtype))
        targets = target_index.tolist()
        for row, (target, prompts) in enumerate(zip(targets, seg_embeddings, strict=True)):
            if target < 0 and len(prompts):
                raise ValueError(f"sample {row} has {len(prompts)} [SEG] tokens but no target frame")
        decoded = [row for row, target in enumerate(targets) if target >= 0 and len(seg_embeddings[row])]
        low_res: dict[int, torch.Tensor] = {}
        if decoded:  # every prompt of the batch in one decoder pass, each on its row's target frame
            counts = [len(seg_embeddings[row]) for row in decoded]
            frame_of_prompt = [
                targets[row] for row, count in zip(decoded, counts, strict=True) for _ in range(count)
            ]
            logits = self.sam.decode(
                embeddings,
                torch.cat([seg_embeddings[row] for row in decoded]),
                torch.tensor(frame_of_prompt, device=embeddings.device),
            )
            low_res = dict(zip(decoded, logits.split(counts), strict=True))
        pred_masks = []
        for row, target in enumerate(targets):
            prompts = seg_embeddings[row]
            if target < 0:
                pred_masks.append(prompts.new_zeros(0, 0, 0))
            elif row not in low_res:
                pred_masks.append(prompts.new_zeros(0, *original_sizes[row]))
            else:
                resized, original = tuple(resized_sizes[row]), tuple(original_sizes[row])
                pred_masks.append(self.sam.postprocess(low_res[row], resized, original))
        return pred_masks

    @property
    def sam_dtype(self) -> torch.dtype:
        return self.sam.mask_decoder.iou_token.weight.dtype

    # ------------------------------------------------------------------ training forward
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        clip_pixel_values: torch.Tensor | None = None,
        sam_pixel_values: torch.Tensor | None = None,
        has_target: torch.Tensor | None = None,
        resized_sizes: Sequence[tuple[int, int] | None] | None = None,
        original_sizes: Sequence[tuple[int, int] | None] | None = None,
        masks: Sequence[torch.Tensor | None] | None = None,
        image_index: torch.Tensor | None = None,
        target_index: torch.Tensor | None = None,
        **_: Any,
    ) -> VisaOutput:
        """Teacher-forced pass over a collated batch (``VisaProcessor.collate``).

        Rows may share frames: ``image_index`` picks each ``<image>``'s CLIP frame and
        ``target_index`` each row's SAM input (-1: none); without them frames follow in row order
        and ``has_target`` says which rows have a target frame.

        Raises:
            ValueError: a sample's ``[SEG]`` count differs from its number of masks.
        """
        sequence = self.expand(input_ids, attention_mask, labels, clip_pixel_values, image_index=image_index)
        llm = self.language_model
        hidden_states = llm.model(
            inputs_embeds=sequence.embeds, attention_mask=sequence.attention_mask
        ).last_hidden_state
        logits = llm.lm_head(hidden_states)
        lm_loss = None
        if sequence.labels is not None:
            shifted = sequence.labels[:, 1:]
            if (shifted != IGNORE_INDEX).any():
                lm_loss = F.cross_entropy(
                    logits[:, :-1].flatten(0, 1).float(), shifted.flatten(), ignore_index=IGNORE_INDEX
                )
            else:
                lm_loss = logits.sum() * 0.0
        seg_embeddings = self.project_seg(hidden_states, sequence)
        if masks is not None:
            for row, (prompts, target) in enumerate(zip(seg_embeddings, masks, strict=True)):
                if target is not None and len(prompts) != target.shape[0]:
                    raise ValueError(
                        f"sample {row}: {len(prompts)} [SEG] tokens in the answer but "
                        f"{target.shape[0]} target masks"
                    )
        if target_index is None:
            rows = len(seg_embeddings)
            has = torch.zeros(rows, dtype=torch.bool) if has_target is None else has_target.bool().cpu()
            target_index = torch.where(has, has.long().cumsum(0) - 1, -1)  # SAM inputs follow in row order
        pred_masks = self._masks_for_batch(
            seg_embeddings, sam_pixel_values, target_index.cpu(), resized_sizes, original_sizes
        )
        pairs = [
            (pred, target.to(pred.device))
            for pred, target in zip(pred_masks, masks or [None] * len(pred_masks), strict=True)
            if target is not None
        ]
        bce, dice = mask_losses([p for p, _ in pairs], [t for _, t in pairs])
        return VisaOutput(
            lm_loss=lm_loss,
            mask_bce_loss=bce.to(self.device),
            mask_dice_loss=dice.to(self.device),
            pred_masks=pred_masks,
            seg_embeddings=seg_embeddings,
            logits=logits,
            labels=sequence.labels,
        )

    # ------------------------------------------------------------------ inference
    def sam_image_embeddings(self, processor: Any, frame: np.ndarray) -> torch.Tensor:
        """SAM embedding ``[1, C, h, w]`` of one ``uint8[H, W, 3]`` frame (cacheable per frame)."""
        sam_input = processor.sam_input(frame)
        return self.sam.encode_images(sam_input.pixel_values[None].to(self.device, self.sam_dtype))

    @torch.no_grad()
    def decode_masks(
        self,
        embeddings: torch.Tensor,
        seg_embeddings: torch.Tensor,
        processor: Any,
        original_size: tuple[int, int],
    ) -> np.ndarray:
        """Mask logits ``float32[N, H, W]`` of ``N`` projected ``[SEG]`` embeddings on one frame."""
        height, width = original_size
        if seg_embeddings.shape[0] == 0:
            return np.zeros((0, height, width), dtype=np.float32)
        resized = longest_side_shape(height, width, processor.images.sam_size)
        low_res = self.sam.decode(embeddings.to(self.device), seg_embeddings.to(self.device, self.sam_dtype))
        return self.sam.postprocess(low_res, resized, (height, width)).float().cpu().numpy()

    @torch.no_grad()
    def segment(
        self,
        processor: Any,
        reference_frames: Sequence[np.ndarray],
        target_frame: np.ndarray,
        query_text: str,
        max_new_tokens: int = 64,
        answer: str | None = None,
        *,
        frame_tokens: torch.Tensor | None = None,
        target_embedding: torch.Tensor | Callable[[], torch.Tensor] | None = None,
    ) -> SegmentationOutput:
        """Answer ``query_text`` about the frames and segment the target frame: one mask per ``[SEG]``.

        With ``answer`` given, the answer is teacher-forced (one forward pass, as the original's
        evaluation); otherwise it is generated greedily. No ``[SEG]`` in the answer gives
        ``has_seg=False`` and zero masks, and is logged as a warning. The processor's prompt style
        decides which frames the prompt shows (VISA: references then target; LISA: the target only).

        Args:
            frame_tokens: precomputed :meth:`frame_tokens` of the frames the prompt shows, in
                prompt order; the reference frames are then only counted, never read.
            target_embedding: precomputed :meth:`sam_image_embeddings` of the target frame, or a
                function returning it (called only when the answer has a ``[SEG]``).
        """
        num_references = len(reference_frames) if processor.shows_references else 0
        if frame_tokens is None:
            frames = [*(reference_frames if processor.shows_references else []), target_frame]
            frame_tokens = self.frame_tokens(processor, frames)
        elif frame_tokens.shape[0] != num_references + 1:
            raise ValueError(
                f"frame_tokens holds {frame_tokens.shape[0]} frames but the prompt shows {num_references + 1}"
            )
        if answer is not None:
            conversation = processor.make_conversation(query_text, num_references, None, answer=answer)
            input_ids, labels = processor.encode_prompt(conversation)
            sequence = self.expand(input_ids[None], None, labels[None], None, frame_tokens)
            hidden = self.language_model.model(
                inputs_embeds=sequence.embeds, attention_mask=sequence.attention_mask
            ).last_hidden_state
            seg_embeddings = self.project_seg(hidden, sequence)[0]
            answer_text = answer
        else:
            conversation = processor.make_conversation(query_text, num_references, None)[:1]
            input_ids, _ = processor.encode_prompt(conversation, add_generation_prompt=True)
            seg_embeddings, answer_text = self._generate(processor, input_ids, frame_tokens, max_new_tokens)
        height, width = target_frame.shape[:2]
        if seg_embeddings.shape[0] == 0:
            logger.warning("the answer %r contains no [SEG] token: no mask was produced", answer_text)
            return SegmentationOutput(
                answer_text, np.zeros((0, height, width), np.float32), seg_embeddings.float().cpu(), False
            )
        if target_embedding is None:
            embeddings = self.sam_image_embeddings(processor, target_frame)
        else:
            embeddings = target_embedding() if callable(target_embedding) else target_embedding
        logits = self.decode_masks(embeddings, seg_embeddings, processor, (height, width))
        return SegmentationOutput(answer_text, logits, seg_embeddings.float().cpu(), True)

    def reply(
        self,
        processor: Any,
        frames: Sequence[np.ndarray],
        conversation: Sequence[Turn],
        max_new_tokens: int = 64,
        *,
        frame_tokens: torch.Tensor | None = None,
    ) -> str:
        """The greedy answer to the last (human) turn of ``conversation``, whose ``<image>``
        placeholders show ``frames`` (``uint8[H, W, 3]``) in order; earlier answers stay as given.

        Args:
            frame_tokens: precomputed :meth:`frame_tokens` of ``frames`` (several turns about the
                same frames encode them once); the frames are then only counted, never read.

        Raises:
            ValueError: the placeholders and ``frames`` disagree, or the last turn is not a question.
        """
        processor.check_placeholders(conversation, len(frames), False)
        if frame_tokens is None:
            frame_tokens = self.frame_tokens(processor, frames)
        input_ids, _ = processor.encode_prompt(conversation, add_generation_prompt=True)
        _, text = self._generate(processor, input_ids, frame_tokens, max_new_tokens)
        return text

    def _generate(
        self, processor: Any, input_ids: torch.Tensor, frame_tokens: torch.Tensor, max_new_tokens: int
    ) -> tuple[torch.Tensor, str]:
        """Greedy generation; the ``[SEG]`` prompts come from the states that predicted each ``[SEG]``."""
        sequence = self.expand(input_ids[None], None, None, None, frame_tokens)
        tokenizer = processor.tokenizer
        out = self.language_model.generate(
            inputs_embeds=sequence.embeds,
            attention_mask=sequence.attention_mask,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            output_hidden_states=True,
            return_dict_in_generate=True,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        generated = out.sequences[0, -len(out.hidden_states) :].tolist()
        states = [
            out.hidden_states[step][-1][0, -1]
            for step, token in enumerate(generated)
            if token == self.config.seg_token_id
        ]
        hidden = self.config.hidden_size
        stacked = (
            torch.stack(states) if states else torch.zeros(0, hidden, device=self.device, dtype=self.dtype)
        )
        return self.text_hidden_fcs(stacked), processor.decode_answer(generated)

    # ------------------------------------------------------------------ LoRA
    def merge_lora(self) -> VisaForSegmentation:
        """Merge LoRA back into the LLM: a plain model again (``config.lora`` None)."""
        return merge_lora(self)
