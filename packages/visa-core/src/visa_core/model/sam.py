"""SAM's image encoder, prompt encoder and mask decoder, built from ``VisaConfig.sam_config``.

Parameter names equal those of ``sam_vit_h_4b8939.pth`` (``image_encoder.*``, ``prompt_encoder.*``,
``mask_decoder.*``). Pixel normalisation lives in the processor, not here.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from visa_core.model.sam_import import import_sam_modeling


class SamParts(nn.Module):
    """The three SAM modules VISA uses; ``[SEG]`` embeddings are its sparse prompts."""

    FLOAT32_BUFFERS = ("positional_encoding_gaussian_matrix",)
    """Tensors kept in float32 in every dtype the model is built or loaded in."""

    def __init__(self, sam_config: dict[str, Any]) -> None:
        super().__init__()
        modeling = import_sam_modeling()
        size, patch = sam_config["image_size"], sam_config["patch_size"]
        dim = sam_config["prompt_embed_dim"]
        self.image_size = size
        self.image_encoder = modeling.ImageEncoderViT(
            depth=sam_config["encoder_depth"],
            embed_dim=sam_config["encoder_embed_dim"],
            img_size=size,
            mlp_ratio=4,
            norm_layer=partial(nn.LayerNorm, eps=1e-6),
            num_heads=sam_config["encoder_num_heads"],
            patch_size=patch,
            qkv_bias=True,
            use_rel_pos=True,
            global_attn_indexes=tuple(sam_config["encoder_global_attn_indexes"]),
            window_size=sam_config["window_size"],
            out_chans=dim,
        )
        self.prompt_encoder = modeling.PromptEncoder(
            embed_dim=dim,
            image_embedding_size=(size // patch, size // patch),
            input_image_size=(size, size),
            mask_in_chans=sam_config["mask_in_chans"],
        )
        pe_layer = self.prompt_encoder.pe_layer
        pe_layer.positional_encoding_gaussian_matrix = pe_layer.positional_encoding_gaussian_matrix.float()
        self.mask_decoder = modeling.MaskDecoder(
            num_multimask_outputs=sam_config["num_multimask_outputs"],
            transformer=modeling.TwoWayTransformer(
                depth=sam_config["decoder_depth"],
                embedding_dim=dim,
                mlp_dim=sam_config["decoder_mlp_dim"],
                num_heads=sam_config["decoder_num_heads"],
            ),
            transformer_dim=dim,
            iou_head_depth=sam_config["iou_head_depth"],
            iou_head_hidden_dim=sam_config["iou_head_hidden_dim"],
        )

    def encode_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """``float[B, 3, S, S]`` normalised, padded images -> embeddings ``[B, C, S/16, S/16]``.

        Gradients flow only when the encoder is trainable (``requires_grad``), as when a preset is
        trained from scratch (``model.frozen_encoders`` without it).
        """
        return self.image_encoder(pixel_values)

    def decode(
        self,
        image_embeddings: torch.Tensor,
        prompts: torch.Tensor,
        image_of_prompt: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``N`` prompts ``[N, C]`` on image embeddings ``[I, C, h, w]`` -> logits ``[N, 4h, 4w]``.

        Prompt ``n`` is decoded on image ``image_of_prompt[n]`` (``long[N]``; all on image 0 when
        omitted), so one call serves the prompts of many images. Each prompt is one sparse token,
        the dense prompt is ``no_mask_embed``, and the mask is SAM's single-mask output
        (``multimask_output=False``): the first mask token's hypernetwork over the upscaled
        embedding. SAM's IoU head and multimask hypernetworks are not run (VISA uses neither).
        """
        decoder = self.mask_decoder
        count = prompts.shape[0]
        if image_of_prompt is None:
            image_of_prompt = torch.zeros(count, dtype=torch.long, device=image_embeddings.device)
        prompts = prompts.to(image_embeddings.dtype)
        output_tokens = torch.cat([decoder.iou_token.weight, decoder.mask_tokens.weight]).to(prompts.dtype)
        tokens = torch.cat([output_tokens.expand(count, -1, -1), prompts.unsqueeze(1)], dim=1)
        dense = self.prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1).to(image_embeddings.dtype)
        source = image_embeddings[image_of_prompt] + dense
        positions = self.dense_positions().to(source.dtype).expand(count, -1, -1, -1)
        token_states, source = decoder.transformer(source, positions, tokens)
        channels, height, width = image_embeddings.shape[1:]
        upscaled = decoder.output_upscaling(source.transpose(1, 2).reshape(count, channels, height, width))
        hyper = decoder.output_hypernetworks_mlps[0](token_states[:, 1])  # [N, C/8]: the first mask token
        masks = hyper.unsqueeze(1) @ upscaled.flatten(2)
        return masks.reshape(count, *upscaled.shape[-2:])

    def dense_positions(self) -> torch.Tensor:
        """SAM's positional encoding of the embedding grid, ``float32[1, C, h, w]``.

        Computed in float32 whatever the module's dtype (segment-anything's ``get_dense_pe`` builds
        a float32 grid and fails on a half-precision matrix). The Gaussian matrix stays float32
        too (:attr:`FLOAT32_BUFFERS`): rounded to bfloat16 it moves SAM ViT-H's encoding by up to
        0.06 (of +-1), against 0.004 for rounding the encoding itself.
        """
        encoder = self.prompt_encoder
        layer = encoder.pe_layer
        matrix = layer.positional_encoding_gaussian_matrix
        height, width = encoder.image_embedding_size
        ys = (torch.arange(height, device=matrix.device, dtype=torch.float32) + 0.5) / height
        xs = (torch.arange(width, device=matrix.device, dtype=torch.float32) + 0.5) / width
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)  # [h, w, 2] as (x, y)
        phases = 2 * torch.pi * ((2 * grid - 1) @ matrix.float())
        return torch.cat([phases.sin(), phases.cos()], dim=-1).permute(2, 0, 1)[None]

    def postprocess(
        self, low_res: torch.Tensor, resized_size: tuple[int, int], original_size: tuple[int, int]
    ) -> torch.Tensor:
        """Low-res logits ``[N, h, w]`` -> ``[N, H, W]`` at the original frame size.

        Upsample to the padded SAM input size, crop the padding away (``resized_size`` is the
        frame's size after resize-longest-side), then resize bilinearly to ``original_size``.
        """
        masks = F.interpolate(
            low_res.unsqueeze(1).float(),
            (self.image_size, self.image_size),
            mode="bilinear",
            align_corners=False,
        )
        masks = masks[..., : resized_size[0], : resized_size[1]]
        masks = F.interpolate(masks, tuple(original_size), mode="bilinear", align_corners=False)
        return masks[:, 0]
