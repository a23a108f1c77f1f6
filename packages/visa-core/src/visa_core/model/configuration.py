"""``VisaConfig``: every shape of the VISA model (LLM, CLIP tower, token merging, SAM, [SEG] head).

Hugging Face composite configuration: ``text_config`` is a ``LlamaConfig``, ``vision_config`` a
``CLIPVisionConfig``; the SAM shapes and the DPC-KNN merging sizes are plain fields so that
``config.json`` states them all.
"""

from __future__ import annotations

from typing import Any

from transformers import AutoConfig, PretrainedConfig
from transformers.configuration_utils import SubConfigSpec

SAM_DEFAULTS: dict[str, Any] = {
    "image_size": 1024,
    "patch_size": 16,
    "encoder_embed_dim": 1280,
    "encoder_depth": 32,
    "encoder_num_heads": 16,
    "encoder_global_attn_indexes": [7, 15, 23, 31],
    "window_size": 14,
    "prompt_embed_dim": 256,
    "mask_in_chans": 16,
    "decoder_depth": 2,
    "decoder_mlp_dim": 2048,
    "decoder_num_heads": 8,
    "iou_head_depth": 3,
    "iou_head_hidden_dim": 256,
    "num_multimask_outputs": 3,
}
"""SAM ViT-H (``sam_vit_h_4b8939.pth``) shapes, as VISA builds them."""


class VisaConfig(PretrainedConfig):
    """Configuration of :class:`~visa_core.model.VisaForSegmentation`.

    Attributes:
        text_config: the Llama causal LM (Chat-UniVi / Vicuna shapes in real use).
        vision_config: the CLIP vision tower (ViT-L/14 at 224 px in real use).
        mm_vision_select_layer: hidden-state index of the tower whose patch tokens are used (-2).
        cluster_sizes: DPC-KNN token counts per level, applied one after the other
            (64, 32, 16 -> 112 tokens per frame).
        cluster_knn: ``k`` of the k-nearest-neighbour density per level (5, 3, 3).
        cluster_density_noise: amplitude of the random tie-break added to densities (the original
            uses 1e-6; 0 makes merging deterministic).
        sam_config: SAM image-encoder / prompt-encoder / mask-decoder shapes (see ``SAM_DEFAULTS``).
        out_dim: size of a projected ``[SEG]`` embedding (= SAM prompt embedding size, 256).
        seg_token_id / image_token_id: tokenizer ids of ``[SEG]`` and ``<image>``.
        lora: LoRA settings as a dict while LoRA layers are inside the model, else None.
    """

    model_type = "visa"
    sub_configs_defaults = {  # noqa: RUF012 (transformers reads it as a class attribute)
        "text_config": SubConfigSpec(config_class=AutoConfig, model_type="llama"),
        "vision_config": SubConfigSpec(config_class=AutoConfig, model_type="clip_vision_model"),
    }

    text_config: dict | PretrainedConfig | None = None
    vision_config: dict | PretrainedConfig | None = None
    mm_vision_select_layer: int = -2
    cluster_sizes: list[int] | tuple[int, ...] = (64, 32, 16)
    cluster_knn: list[int] | tuple[int, ...] = (5, 3, 3)
    cluster_density_noise: float = 0.0
    sam_config: dict[str, Any] | None = None
    out_dim: int = 256
    seg_token_id: int = 32000
    image_token_id: int = 32001
    lora: dict[str, Any] | None = None
    initializer_range: float = 0.02
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs: Any) -> None:
        super().__post_init__(**kwargs)
        self.cluster_sizes = [int(n) for n in self.cluster_sizes]
        self.cluster_knn = [int(k) for k in self.cluster_knn]
        if len(self.cluster_sizes) != len(self.cluster_knn):
            raise ValueError(
                f"cluster_sizes {self.cluster_sizes} and cluster_knn {self.cluster_knn} differ in length"
            )
        self.sam_config = {**SAM_DEFAULTS, **(self.sam_config or {})}
        if self.sam_config["prompt_embed_dim"] != self.out_dim:
            raise ValueError(
                f"out_dim {self.out_dim} must equal sam_config.prompt_embed_dim "
                f"{self.sam_config['prompt_embed_dim']} (each [SEG] embedding is one SAM prompt token)"
            )

    @property
    def hidden_size(self) -> int:
        """The LLM's hidden size ``H``."""
        return self.text_config.hidden_size

    @property
    def mm_hidden_size(self) -> int:
        """The CLIP tower's hidden size (input of ``mm_projector``)."""
        return self.vision_config.hidden_size

    @property
    def tokens_per_image(self) -> int:
        """LLM tokens one frame becomes after merging (112 for 64 + 32 + 16)."""
        return sum(self.cluster_sizes) if self.cluster_sizes else self.num_patches

    @property
    def patch_grid(self) -> int:
        """Patches per side of a CLIP frame (16 for ViT-L/14 at 224 px)."""
        return self.vision_config.image_size // self.vision_config.patch_size

    @property
    def num_patches(self) -> int:
        """Patch tokens of the CLIP tower per frame (256 for ViT-L/14 at 224 px)."""
        return self.patch_grid**2

    @property
    def sam_embedding_size(self) -> int:
        """Side of SAM's image embedding grid (64 for 1024 px)."""
        return self.sam_config["image_size"] // self.sam_config["patch_size"]


AutoConfig.register("visa", VisaConfig, exist_ok=True)
