from __future__ import annotations

import torch

from visa_core.model import LoraSettings, VisaForSegmentation, apply_lora
from visa_core.model.folders import export_model_folder


def _batch(processor, frames, masks):
    turns = processor.make_conversation("the red square", 3, None, answer="It is [SEG], [SEG].")
    return processor.collate([processor.encode_example(frames[:3], frames[3], turns, masks)])


def _trained_name(name: str) -> bool:
    return (
        ".lora_" in name
        or name in ("language_model.model.embed_tokens.weight", "language_model.lm_head.weight")
        or name.startswith(("sam.mask_decoder.", "text_hidden_fcs."))
    )


def test_exactly_the_original_trainable_set_receives_gradients(tiny_model, processor, frames, two_masks):
    apply_lora(tiny_model, LoraSettings(r=4, alpha=8))
    tiny_model.train()
    out = tiny_model(**_batch(processor, frames, two_masks))
    (out.lm_loss + 2 * out.mask_bce_loss + 0.5 * out.mask_dice_loss).backward()
    names = [n for n, _ in tiny_model.named_parameters()]
    lora = [n for n in names if ".lora_" in n]
    assert len(lora) == 2 * 2 * tiny_model.config.text_config.num_hidden_layers  # q/v x A/B x layers
    assert all(".q_proj." in n or ".v_proj." in n for n in lora)
    with_grad = {n for n, p in tiny_model.named_parameters() if p.grad is not None}
    trainable = {n for n, p in tiny_model.named_parameters() if p.requires_grad}
    expected = {n for n in names if _trained_name(n)}
    assert trainable == expected
    # the mask decoder's multimask tokens / heads are unused with multimask_output=False
    unused = {
        n
        for n in expected - with_grad
        if "output_hypernetworks_mlps" in n
        or "iou_prediction_head" in n
        or "mask_tokens" in n
        or "iou_token" in n
    }
    assert with_grad == expected - unused


def test_merge_and_export_give_a_plain_model_with_the_same_outputs(
    tiny_model, processor, frames, two_masks, tmp_path
):
    apply_lora(tiny_model)
    with torch.no_grad():
        for name, parameter in tiny_model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.5)
    tiny_model.eval()
    batch = _batch(processor, frames, two_masks)
    with_lora = tiny_model(**batch).logits
    tiny_model.save_pretrained(str(tmp_path / "lora"))
    processor.save_pretrained(tmp_path / "lora")
    notes = export_model_folder(tmp_path / "lora", tmp_path / "plain", merge_lora=True)
    assert notes == ["merged LoRA into the language model"]
    plain = VisaForSegmentation.from_pretrained(str(tmp_path / "plain")).eval()
    assert plain.config.lora is None
    assert not any("lora_" in k or "base_layer" in k for k in plain.state_dict())
    assert torch.allclose(plain(**batch).logits, with_lora, atol=1e-4)
    assert (tmp_path / "plain" / "tokenizer.json").is_file()
