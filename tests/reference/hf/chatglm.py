"""Faithful re-implementation of THUDM's ChatGLM2/ChatGLM3/GLM-4 modelling code (modeling_chatglm.py,
configuration_chatglm.py), inference path, PyTorch 1.x branch. Module and parameter names are the
originals so state_dict keys are the checkpoint's. Deliberately kept: fused query_key_value
(q | k | v with multi-query groups, or per-head [q k v] interleave without them), rotary on the first
half of each head with interleaved (2j, 2j+1) pairs, base = 10000 * rope_ratio (GLM-4),
swiglu = silu(first half) * second half of dense_h_to_4h, query-key layer scaling, output_layer."""
import math

import torch
import torch.nn.functional as F
from torch import nn

# configuration_chatglm.ChatGLMConfig defaults (a field absent from config.json takes these)
CONFIG_DEFAULTS = dict(
    num_layers=28, padded_vocab_size=65024, hidden_size=4096, ffn_hidden_size=13696, kv_channels=128,
    num_attention_heads=32, seq_length=2048, hidden_dropout=0.0, classifier_dropout=None, attention_dropout=0.0,
    layernorm_epsilon=1e-5, rmsnorm=True, apply_residual_connection_post_layernorm=False, post_layer_norm=True,
    add_bias_linear=False, add_qkv_bias=False, bias_dropout_fusion=True, multi_query_attention=False,
    multi_query_group_num=1, rope_ratio=1, apply_query_key_layer_scaling=True, attention_softmax_in_fp32=True,
    fp32_residual_connection=False, quantization_bit=0, pre_seq_len=None, prefix_projection=False,
    original_rope=True, torch_dtype=None)


class ChatGLMConfig:
    def __init__(self, **kw):
        for k, v in CONFIG_DEFAULTS.items():
            setattr(self, k, kw.pop(k, v))
        for k, v in kw.items():  # architectures, auto_map, eos_token_id, ... kept as in PretrainedConfig
            setattr(self, k, v)


def split_tensor_along_last_dim(tensor, num_partitions):
    last_dim_size = tensor.size()[-1] // num_partitions
    return torch.split(tensor, last_dim_size, dim=-1)


class RotaryEmbedding(nn.Module):
    def __init__(self, dim, rope_ratio=1, original_impl=False, dtype=None):
        super().__init__()
        inv_freq = 1.0 / (10000 ** (torch.arange(0, dim, 2).to(dtype=dtype) / dim))
        self.register_buffer("inv_freq", inv_freq)
        self.dim = dim
        self.original_impl = original_impl
        self.rope_ratio = rope_ratio

    def forward_impl(self, seq_len, n_elem, dtype, device, base=10000):
        base = base * self.rope_ratio
        theta = 1.0 / (base ** (torch.arange(0, n_elem, 2, dtype=torch.float, device=device) / n_elem))
        seq_idx = torch.arange(seq_len, dtype=torch.float, device=device)
        idx_theta = torch.outer(seq_idx, theta).float()
        cache = torch.stack([torch.cos(idx_theta), torch.sin(idx_theta)], dim=-1)
        # this is to mimic the behaviour of complex32, else we will get different results
        if dtype in (torch.float16, torch.bfloat16, torch.int8):
            cache = cache.bfloat16() if dtype == torch.bfloat16 else cache.half()
        return cache

    def forward(self, max_seq_len, offset=0):
        return self.forward_impl(max_seq_len, self.dim, dtype=self.inv_freq.dtype, device=self.inv_freq.device)


def apply_rotary_pos_emb(x, rope_cache):
    # x: [sq, b, np, hn]
    sq, b, np_, hn = x.size(0), x.size(1), x.size(2), x.size(3)
    rot_dim = rope_cache.shape[-2] * 2
    x, x_pass = x[..., :rot_dim], x[..., rot_dim:]
    rope_cache = rope_cache[:sq]
    xshaped = x.reshape(sq, -1, np_, rot_dim // 2, 2)
    rope_cache = rope_cache.view(sq, -1, 1, xshaped.size(3), 2)
    x_out2 = torch.stack([
        xshaped[..., 0] * rope_cache[..., 0] - xshaped[..., 1] * rope_cache[..., 1],
        xshaped[..., 1] * rope_cache[..., 0] + xshaped[..., 0] * rope_cache[..., 1],
    ], -1)
    x_out2 = x_out2.flatten(3)
    return torch.cat((x_out2, x_pass), dim=-1)


class RMSNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5, dtype=None):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(normalized_shape, dtype=dtype))
        self.eps = eps

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.eps)
        return (self.weight * hidden_states).to(input_dtype)


class CoreAttention(nn.Module):
    def __init__(self, config, layer_number):
        super().__init__()
        self.apply_query_key_layer_scaling = config.apply_query_key_layer_scaling
        self.attention_softmax_in_fp32 = config.attention_softmax_in_fp32
        if self.apply_query_key_layer_scaling:
            self.attention_softmax_in_fp32 = True
        self.layer_number = max(1, layer_number)
        projection_size = config.kv_channels * config.num_attention_heads
        self.hidden_size_per_partition = projection_size
        self.hidden_size_per_attention_head = projection_size // config.num_attention_heads
        self.num_attention_heads_per_partition = config.num_attention_heads
        coeff = None
        self.norm_factor = math.sqrt(self.hidden_size_per_attention_head)
        if self.apply_query_key_layer_scaling:
            coeff = self.layer_number
            self.norm_factor *= coeff
        self.coeff = coeff
        self.attention_dropout = nn.Dropout(config.attention_dropout)

    def forward(self, query_layer, key_layer, value_layer, attention_mask):
        # the PyTorch 1.x branch of the original (no scaled_dot_product_attention)
        output_size = (query_layer.size(1), query_layer.size(2), query_layer.size(0), key_layer.size(0))
        query_layer = query_layer.view(output_size[2], output_size[0] * output_size[1], -1)
        key_layer = key_layer.view(output_size[3], output_size[0] * output_size[1], -1)
        # the original allocates torch.empty; beta=0.0 should ignore it, but torch 1.13 on CPU lets a NaN in
        # uninitialised memory through now and then, so the golden scripts start from zeros (same result otherwise)
        matmul_input_buffer = torch.zeros(output_size[0] * output_size[1], output_size[2], output_size[3],
                                          dtype=query_layer.dtype, device=query_layer.device)
        matmul_result = torch.baddbmm(matmul_input_buffer, query_layer.transpose(0, 1),
                                      key_layer.transpose(0, 1).transpose(1, 2), beta=0.0,
                                      alpha=(1.0 / self.norm_factor))
        attention_scores = matmul_result.view(*output_size)
        if self.attention_softmax_in_fp32:
            attention_scores = attention_scores.float()
        if self.coeff is not None:
            attention_scores = attention_scores * self.coeff
        if attention_mask is None and attention_scores.shape[2] == attention_scores.shape[3]:
            attention_mask = torch.ones(output_size[0], 1, output_size[2], output_size[3],
                                        device=attention_scores.device, dtype=torch.bool)
            attention_mask.tril_()
            attention_mask = ~attention_mask
        if attention_mask is not None:
            attention_scores = attention_scores.masked_fill(attention_mask, float("-inf"))
        attention_probs = F.softmax(attention_scores, dim=-1)
        attention_probs = attention_probs.type_as(value_layer)
        attention_probs = self.attention_dropout(attention_probs)
        output_size = (value_layer.size(1), value_layer.size(2), query_layer.size(0), value_layer.size(3))
        value_layer = value_layer.view(value_layer.size(0), output_size[0] * output_size[1], -1)
        attention_probs = attention_probs.view(output_size[0] * output_size[1], output_size[2], -1)
        context_layer = torch.bmm(attention_probs, value_layer.transpose(0, 1))
        context_layer = context_layer.view(*output_size)
        context_layer = context_layer.permute(2, 0, 1, 3).contiguous()
        new_context_layer_shape = context_layer.size()[:-2] + (self.hidden_size_per_partition,)
        return context_layer.view(*new_context_layer_shape)


class SelfAttention(nn.Module):
    def __init__(self, config, layer_number):
        super().__init__()
        self.layer_number = max(1, layer_number)
        self.projection_size = config.kv_channels * config.num_attention_heads
        self.hidden_size_per_attention_head = self.projection_size // config.num_attention_heads
        self.num_attention_heads_per_partition = config.num_attention_heads
        self.multi_query_attention = config.multi_query_attention
        self.qkv_hidden_size = 3 * self.projection_size
        if self.multi_query_attention:
            self.num_multi_query_groups_per_partition = config.multi_query_group_num
            self.qkv_hidden_size = (self.projection_size
                                    + 2 * self.hidden_size_per_attention_head * config.multi_query_group_num)
        self.query_key_value = nn.Linear(config.hidden_size, self.qkv_hidden_size,
                                         bias=config.add_bias_linear or config.add_qkv_bias)
        self.core_attention = CoreAttention(config, self.layer_number)
        self.dense = nn.Linear(self.projection_size, config.hidden_size, bias=config.add_bias_linear)

    def forward(self, hidden_states, attention_mask, rotary_pos_emb, kv_cache=None, use_cache=True):
        mixed_x_layer = self.query_key_value(hidden_states)
        hn = self.hidden_size_per_attention_head
        if self.multi_query_attention:
            g = self.num_multi_query_groups_per_partition
            query_layer, key_layer, value_layer = mixed_x_layer.split(
                [self.num_attention_heads_per_partition * hn, g * hn, g * hn], dim=-1)
            query_layer = query_layer.view(query_layer.size()[:-1] + (self.num_attention_heads_per_partition, hn))
            key_layer = key_layer.view(key_layer.size()[:-1] + (g, hn))
            value_layer = value_layer.view(value_layer.size()[:-1] + (g, hn))
        else:
            new_tensor_shape = mixed_x_layer.size()[:-1] + (self.num_attention_heads_per_partition, 3 * hn)
            mixed_x_layer = mixed_x_layer.view(*new_tensor_shape)
            query_layer, key_layer, value_layer = split_tensor_along_last_dim(mixed_x_layer, 3)
        if rotary_pos_emb is not None:
            query_layer = apply_rotary_pos_emb(query_layer, rotary_pos_emb)
            key_layer = apply_rotary_pos_emb(key_layer, rotary_pos_emb)
        if kv_cache is not None:
            cache_k, cache_v = kv_cache
            key_layer = torch.cat((cache_k, key_layer), dim=0)
            value_layer = torch.cat((cache_v, value_layer), dim=0)
        kv_cache = (key_layer, value_layer) if use_cache else None
        if self.multi_query_attention:
            rep = self.num_attention_heads_per_partition // self.num_multi_query_groups_per_partition
            key_layer = key_layer.unsqueeze(-2).expand(-1, -1, -1, rep, -1)
            key_layer = key_layer.contiguous().view(key_layer.size()[:2] + (self.num_attention_heads_per_partition, hn))
            value_layer = value_layer.unsqueeze(-2).expand(-1, -1, -1, rep, -1)
            value_layer = value_layer.contiguous().view(
                value_layer.size()[:2] + (self.num_attention_heads_per_partition, hn))
        context_layer = self.core_attention(query_layer, key_layer, value_layer, attention_mask)
        return self.dense(context_layer), kv_cache


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.add_bias = config.add_bias_linear
        self.dense_h_to_4h = nn.Linear(config.hidden_size, config.ffn_hidden_size * 2, bias=self.add_bias)

        def swiglu(x):
            x = torch.chunk(x, 2, dim=-1)
            return F.silu(x[0]) * x[1]

        self.activation_func = swiglu
        self.dense_4h_to_h = nn.Linear(config.ffn_hidden_size, config.hidden_size, bias=self.add_bias)

    def forward(self, hidden_states):
        return self.dense_4h_to_h(self.activation_func(self.dense_h_to_4h(hidden_states)))


class GLMBlock(nn.Module):
    def __init__(self, config, layer_number):
        super().__init__()
        self.layer_number = layer_number
        self.apply_residual_connection_post_layernorm = config.apply_residual_connection_post_layernorm
        assert config.rmsnorm, "this re-implementation covers rmsnorm=True (all released ChatGLM2/3, GLM-4)"
        self.input_layernorm = RMSNorm(config.hidden_size, eps=config.layernorm_epsilon)
        self.self_attention = SelfAttention(config, layer_number)
        self.hidden_dropout = config.hidden_dropout
        self.post_attention_layernorm = RMSNorm(config.hidden_size, eps=config.layernorm_epsilon)
        self.mlp = MLP(config)

    def forward(self, hidden_states, attention_mask, rotary_pos_emb, kv_cache=None, use_cache=True):
        layernorm_output = self.input_layernorm(hidden_states)
        attention_output, kv_cache = self.self_attention(layernorm_output, attention_mask, rotary_pos_emb,
                                                         kv_cache=kv_cache, use_cache=use_cache)
        residual = layernorm_output if self.apply_residual_connection_post_layernorm else hidden_states
        layernorm_input = residual + F.dropout(attention_output, p=self.hidden_dropout, training=self.training)
        layernorm_output = self.post_attention_layernorm(layernorm_input)
        mlp_output = self.mlp(layernorm_output)
        residual = layernorm_output if self.apply_residual_connection_post_layernorm else layernorm_input
        return residual + F.dropout(mlp_output, p=self.hidden_dropout, training=self.training), kv_cache


class GLMTransformer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.post_layer_norm = config.post_layer_norm
        self.num_layers = config.num_layers
        self.layers = nn.ModuleList([GLMBlock(config, i + 1) for i in range(self.num_layers)])
        if self.post_layer_norm:
            self.final_layernorm = RMSNorm(config.hidden_size, eps=config.layernorm_epsilon)

    def forward(self, hidden_states, attention_mask, rotary_pos_emb, kv_caches=None, use_cache=True):
        if not kv_caches:
            kv_caches = [None] * self.num_layers
        presents = ()
        for index in range(self.num_layers):
            hidden_states, kv_cache = self.layers[index](hidden_states, attention_mask, rotary_pos_emb,
                                                         kv_cache=kv_caches[index], use_cache=use_cache)
            presents = presents + (kv_cache,)
        if self.post_layer_norm:
            hidden_states = self.final_layernorm(hidden_states)
        return hidden_states, presents


class Embedding(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.padded_vocab_size, config.hidden_size)
        self.fp32_residual_connection = config.fp32_residual_connection

    def forward(self, input_ids):
        embeddings = self.word_embeddings(input_ids).transpose(0, 1).contiguous()  # [b s h] -> [s b h]
        return embeddings.float() if self.fp32_residual_connection else embeddings


class ChatGLMModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embedding = Embedding(config)
        self.num_layers = config.num_layers
        self.seq_length = config.seq_length
        rotary_dim = (config.hidden_size // config.num_attention_heads
                      if config.kv_channels is None else config.kv_channels)
        self.rotary_pos_emb = RotaryEmbedding(rotary_dim // 2, rope_ratio=config.rope_ratio,
                                              original_impl=config.original_rope)
        self.encoder = GLMTransformer(config)
        self.output_layer = nn.Linear(config.hidden_size, config.padded_vocab_size, bias=False)

    def forward(self, input_ids, position_ids=None, past_key_values=None, use_cache=False):
        batch_size, seq_length = input_ids.shape
        inputs_embeds = self.embedding(input_ids)
        full_attention_mask = None
        if past_key_values and seq_length != 1:
            raise NotImplementedError("chunked prefill with a cache is not needed by the golden scripts")
        rotary_pos_emb = self.rotary_pos_emb(self.seq_length)
        if position_ids is not None:
            rotary_pos_emb = rotary_pos_emb[position_ids]
        else:
            rotary_pos_emb = rotary_pos_emb[None, :seq_length]
        rotary_pos_emb = rotary_pos_emb.transpose(0, 1).contiguous()
        hidden_states, presents = self.encoder(inputs_embeds, full_attention_mask, rotary_pos_emb=rotary_pos_emb,
                                               kv_caches=past_key_values, use_cache=use_cache)
        return hidden_states, presents


class ChatGLMForConditionalGeneration(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = ChatGLMModel(config)

    def forward(self, input_ids):
        """Logits (b, s, padded_vocab) in float32, as the original's lm_logits.float()."""
        hidden_states, _ = self.transformer(input_ids)
        lm_logits = self.transformer.output_layer(hidden_states)
        return lm_logits.transpose(0, 1).contiguous().float()
