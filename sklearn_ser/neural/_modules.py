"""PyTorch modules of the sequence recognisers.

Every module takes ``forward(x, lengths)``: ``x`` is a float tensor ``(batch, n_frames,
n_coeffs)`` whose padding frames are zero, ``lengths`` the number of real (leading) frames of
each clip. ``embed(x, lengths)`` returns the input of the output layer (the pooled penultimate
layer, a clip's embedding), and the attention-pooled modules give their pooling weights with
``attention_weights(x, lengths)``. Padding never reaches a prediction: convolution outputs are
re-zeroed past each clip's end after every block, the recurrent layers run on packed
sequences, and pooling (mean, max, attention) is masked. A clip's output therefore does not
depend on how much padding the batch added, nor on the other clips of the batch (in ``eval``
mode).

During training, ``crop_frames`` cuts a random window of at most that many frames from each clip
(random cropping, a standard augmentation for small emotion corpora), and ``time_masks`` /
``freq_masks`` zero random stripes (SpecAugment). Both are off in ``eval`` mode.
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["AttentionPooling", "CNNModule", "CRNNModule", "LSTMModule", "frame_mask"]


def frame_mask(lengths, n_frames):
    """Boolean ``(batch, n_frames)`` mask, True on the real frames."""
    steps = torch.arange(n_frames, device=lengths.device)
    return steps[None, :] < lengths[:, None]


def _pooled_lengths(lengths, n_pools):
    """Lengths after ``n_pools`` poolings of size 2 with ``ceil_mode=True``."""
    for _ in range(n_pools):
        lengths = torch.div(lengths + 1, 2, rounding_mode="floor")
    return lengths


class _Augment(nn.Module):
    """Training-time random crops and SpecAugment stripes; the identity in eval mode."""

    def __init__(self, crop_frames=None, time_masks=0, freq_masks=0, mask_width=0.1):
        super().__init__()
        self.crop_frames = crop_frames
        self.time_masks = time_masks
        self.freq_masks = freq_masks
        self.mask_width = mask_width

    def forward(self, x, lengths):
        # Drop the frames that are padding for every clip of the batch.
        x = x[:, : max(int(lengths.max()), 1)]
        if not self.training:
            return x, lengths
        if self.crop_frames is not None and x.shape[1] > self.crop_frames:
            x, lengths = self._crop(x, lengths)
        if self.time_masks or self.freq_masks:
            x = self._stripes(x, lengths)
        return x, lengths

    def _crop(self, x, lengths):
        crop = self.crop_frames
        room = (lengths - crop).clamp(min=0)
        start = (torch.rand(len(x), device=x.device) * (room + 1)).long().clamp(max=room)
        index = start[:, None] + torch.arange(crop, device=x.device)[None, :]
        index = index.clamp(max=x.shape[1] - 1)
        x = torch.gather(x, 1, index[:, :, None].expand(-1, -1, x.shape[2]))
        lengths = lengths.clamp(max=crop)
        return x * frame_mask(lengths, crop)[:, :, None], lengths

    def _stripes(self, x, lengths):
        batch, n_frames, n_coeffs = x.shape
        keep = torch.ones_like(x)
        for axis, count, size in ((1, self.time_masks, n_frames), (2, self.freq_masks, n_coeffs)):
            if not count or size < 2:
                continue
            extent = lengths.float() if axis == 1 else torch.full((batch,), float(size),
                                                                   device=x.device)
            width_max = (extent * self.mask_width).clamp(min=1.0)
            steps = torch.arange(size, device=x.device)[None, :]
            for _ in range(count):
                width = (torch.rand(batch, device=x.device) * width_max).long()
                start = (torch.rand(batch, device=x.device) * (extent - width).clamp(min=1)).long()
                stripe = (steps >= start[:, None]) & (steps < (start + width)[:, None])
                if axis == 1:
                    keep = keep * (~stripe)[:, :, None]
                else:
                    keep = keep * (~stripe)[:, None, :]
        return x * keep


class AttentionPooling(nn.Module):
    """Additive attention over time, masked: ``sum_t softmax(v' tanh(W h_t)) h_t``."""

    def __init__(self, n_inputs, n_hidden=64):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(n_inputs, n_hidden), nn.Tanh(),
                                   nn.Linear(n_hidden, 1))

    def weights(self, h, mask):
        """Softmax weights ``(batch, time)`` over the real frames (0 on padding)."""
        scores = self.score(h).squeeze(-1).masked_fill(~mask, float("-inf"))
        return torch.softmax(scores, dim=1)

    def forward(self, h, mask):
        return torch.bmm(self.weights(h, mask).unsqueeze(1), h).squeeze(1)


def _hidden(head, h):
    """``head`` without its output layer: the embedding fed to that layer."""
    for layer in list(head)[:-1]:
        h = layer(h)
    return h


def _masked_mean_max(h, mask):
    """Mean and max of ``h`` (batch, time, features) over the real frames."""
    m = mask.unsqueeze(-1)
    mean = (h * m).sum(1) / m.sum(1).clamp(min=1)
    maximum = h.masked_fill(~m, float("-inf")).amax(1)
    return torch.cat([mean, maximum], dim=1)


class _ConvBlock(nn.Module):
    """Conv2d 3x3 -> batch norm -> ReLU -> [max-pool 2 over time and/or frequency]."""

    def __init__(self, n_in, n_out, pool_time, pool_freq):
        super().__init__()
        self.conv = nn.Conv2d(n_in, n_out, kernel_size=3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(n_out)
        self.pool_time = pool_time
        self.pool_freq = pool_freq

    def forward(self, x, lengths):
        # x: (batch, channels, time, freq)
        x = torch.relu(self.norm(self.conv(x)))
        # Zero everything past each clip's end (batch norm shifts the padding away from zero),
        # so that pooling and the next convolution see the zeros of a clip without padding.
        x = x * frame_mask(lengths, x.shape[2])[:, None, :, None]
        kernel = (2 if self.pool_time and x.shape[2] > 1 else 1,
                  2 if self.pool_freq and x.shape[3] > 1 else 1)
        if kernel != (1, 1):
            # ReLU outputs are >= 0, so a window holding a real frame and a zeroed one gives
            # the real frame's value, as the ceil_mode window of an unpadded clip does.
            x = nn.functional.max_pool2d(x, kernel, ceil_mode=True)
            if kernel[0] == 2:
                lengths = _pooled_lengths(lengths, 1)
        return x, lengths


class _ConvStack(nn.Module):
    def __init__(self, channels, time_pools):
        super().__init__()
        blocks, n_in = [], 1
        for i, n_out in enumerate(channels):
            blocks.append(_ConvBlock(n_in, n_out, pool_time=i < time_pools, pool_freq=True))
            n_in = n_out
        self.blocks = nn.ModuleList(blocks)
        # Channels-last weights make the activations channels-last too, which runs the
        # convolutions and above all the max pooling on oneDNN's vectorised CPU kernels, so
        # a training step of the default CNN takes less time on a CPU (benchmarks/README.md,
        # "Networks: training and scoring time").
        self.to(memory_format=torch.channels_last)

    def forward(self, x, lengths):
        x = x.unsqueeze(1)  # (batch, 1, time, freq)
        for block in self.blocks:
            x, lengths = block(x, lengths)
        return x, lengths


class CNNModule(nn.Module):
    """2-D CNN over (frames x coefficients) with masked global pooling.

    Blocks of conv 3x3, batch norm, ReLU and 2x2 max pooling; then the mean over frequency and
    the masked mean and max over time feed a small classifier head. No dense layer sees the
    flattened map, so the size does not depend on the clip length.
    """

    def __init__(self, n_coeffs, n_classes, channels=(16, 32, 64), n_hidden=64, dropout=0.3,
                 crop_frames=None, time_masks=0, freq_masks=0):
        super().__init__()
        self.augment = _Augment(crop_frames, time_masks, freq_masks)
        self.convs = _ConvStack(channels, time_pools=len(channels))
        n_out = 2 * channels[-1]
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(n_out, n_hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(n_hidden, n_classes),
        )

    def embed(self, x, lengths):
        x, lengths = self.augment(x, lengths)
        h, lengths = self.convs(x, lengths)
        h = h.mean(dim=3).transpose(1, 2)  # (batch, time, channels)
        mask = frame_mask(lengths, h.shape[1])
        return _hidden(self.head, _masked_mean_max(h, mask))

    def forward(self, x, lengths):
        return self.head[-1](self.embed(x, lengths))


def _run_rnn(rnn, h, lengths):
    """Run a batch-first RNN on packed sequences; return padded outputs (zeros past ends)."""
    packed = pack_padded_sequence(h, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, _ = rnn(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=h.shape[1])
    return out


def _make_rnn(cell, n_inputs, n_units, n_layers, dropout, bidirectional):
    rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
    return rnn(n_inputs, n_units, num_layers=n_layers, batch_first=True,
               bidirectional=bidirectional, dropout=dropout if n_layers > 1 else 0.0)


def _stack_frames(x, lengths, k):
    """Concatenate each ``k`` consecutive frames into one (a clip's last group zero-filled)."""
    if k == 1:
        return x, lengths
    batch, n_frames, n_coeffs = x.shape
    extra = -n_frames % k
    if extra:
        x = torch.cat([x, x.new_zeros(batch, extra, n_coeffs)], dim=1)
    x = x.reshape(batch, -1, k * n_coeffs)
    return x, torch.div(lengths + k - 1, k, rounding_mode="floor")


class _AttentionPooled(nn.Module):
    """A recurrent module whose steps (``_steps``: outputs and mask of real steps) are
    pooled by ``attention`` and fed to ``head``; the embedding is the head's hidden layer."""

    def embed(self, x, lengths):
        h, mask = self._steps(x, lengths)
        return _hidden(self.head, self.attention(h, mask))

    def forward(self, x, lengths):
        return self.head[-1](self.embed(x, lengths))

    def attention_weights(self, x, lengths):
        """Attention weights ``(batch, steps)`` and each clip's number of real steps."""
        h, mask = self._steps(x, lengths)
        return self.attention.weights(h, mask), mask.sum(dim=1)


class LSTMModule(_AttentionPooled):
    """(Bi)LSTM over frame sequences (packed, so padding is skipped) with attention pooling.

    ``stack_frames=k`` concatenates each k consecutive frames into one LSTM step, dividing the
    number of (sequential, hence slow) steps by k.
    """

    def __init__(self, n_coeffs, n_classes, n_units=64, n_layers=1, bidirectional=True,
                 n_attention=64, dropout=0.3, stack_frames=1, crop_frames=None, time_masks=0,
                 freq_masks=0):
        super().__init__()
        self.augment = _Augment(crop_frames, time_masks, freq_masks)
        self.stack_frames = stack_frames
        self.input_dropout = nn.Dropout(dropout / 2)
        self.rnn = _make_rnn("lstm", n_coeffs * stack_frames, n_units, n_layers, dropout,
                             bidirectional)
        n_out = n_units * (2 if bidirectional else 1)
        self.attention = AttentionPooling(n_out, n_attention)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_out, n_classes))
        self.attention_stride = stack_frames  # input frames per attention step

    def _steps(self, x, lengths):
        """The LSTM's outputs ``(batch, steps, units)`` and the mask of real steps."""
        x, lengths = self.augment(x, lengths)
        x, lengths = _stack_frames(x, lengths, self.stack_frames)
        h = _run_rnn(self.rnn, self.input_dropout(x), lengths)
        return h, frame_mask(lengths, h.shape[1])


class CRNNModule(_AttentionPooled):
    """Convolutional front end, recurrent layer over the conv frames, attention pooling.

    2-D conv blocks (the first ``time_pools`` of which also halve the frame rate) turn each frame
    into ``channels[-1] * reduced_coeffs`` features; a linear projection feeds a bidirectional
    GRU or LSTM, whose outputs are pooled by masked attention.
    """

    def __init__(self, n_coeffs, n_classes, channels=(16, 32), time_pools=2, n_units=64,
                 cell="gru", bidirectional=True, n_attention=64, dropout=0.3,
                 crop_frames=None, time_masks=0, freq_masks=0):
        super().__init__()
        self.augment = _Augment(crop_frames, time_masks, freq_masks)
        self.convs = _ConvStack(channels, time_pools=time_pools)
        n_freq = n_coeffs
        for _ in channels:
            n_freq = (n_freq + 1) // 2 if n_freq > 1 else 1
        self.project = nn.Sequential(nn.Linear(channels[-1] * n_freq, n_units), nn.ReLU(),
                                     nn.Dropout(dropout))
        self.rnn = _make_rnn(cell, n_units, n_units, 1, 0.0, bidirectional)
        n_out = n_units * (2 if bidirectional else 1)
        self.attention = AttentionPooling(n_out, n_attention)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_out, n_classes))
        # Input frames per attention step: each time-pooling block halves the frame rate.
        self.attention_stride = 2 ** min(time_pools, len(channels))

    def _steps(self, x, lengths):
        """The recurrent outputs ``(batch, steps, units)`` and the mask of real steps."""
        x, lengths = self.augment(x, lengths)
        h, lengths = self.convs(x, lengths)  # (batch, channels, time, freq)
        batch, channels, n_frames, n_freq = h.shape
        h = h.permute(0, 2, 1, 3).reshape(batch, n_frames, channels * n_freq)
        h = self.project(h)
        h = _run_rnn(self.rnn, h, lengths)
        return h, frame_mask(lengths, n_frames)
