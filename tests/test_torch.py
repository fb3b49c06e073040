"""fastembed.torch (issue 27): Embedding / EmbeddingBag modules whose forward and backward are
fastembed's kernels, against torch's own modules: forward and weight gradients bit for bit where
torch is exact, the stated bound where it is not (see the module docstring), optimizer steps,
state_dict / torch.save, the shared table, and every error message."""
import io
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed")

from fastembed import EmbeddingTable, pooling  # noqa: E402
from fastembed import torch as fet  # noqa: E402

EPS = float(np.finfo(np.float32).eps)
MODES = ["sum", "mean", "max"]


def _pair(cls, V=500, D=24, seed=0, **kw):
    """Our module and torch's over equal (separate) weights."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(V, D, generator=g)
    ours = getattr(fet, cls).from_pretrained(w.clone(), freeze=False, **kw)
    theirs = getattr(torch.nn, cls).from_pretrained(w.clone(), freeze=False, **kw)
    return ours, theirs


def _dense(grad):
    return (grad.to_dense() if grad.is_sparse else grad).numpy()


def _ids(rng, V, shape, dup=50):
    """Ids with many duplicates (ids below ``dup`` are drawn often) so gradients sum several terms."""
    a = rng.integers(0, V, shape)
    a.reshape(-1)[::3] = rng.integers(0, dup, a.reshape(-1)[::3].shape)
    return torch.from_numpy(a)


def _terms_bound(ids, grad_terms, V, scale_per_id=1.0):
    """Per-row bound for two summation orders of the terms of each id: 2 (k - 1) eps sum|t|."""
    flat = ids.reshape(-1).numpy()
    k = np.bincount(flat, minlength=V).astype(np.float64)
    s = np.zeros((V, grad_terms.shape[-1]))
    np.add.at(s, flat, np.abs(grad_terms.reshape(flat.size, -1)))
    return (2 * np.maximum(k - 1, 0)[:, None] * EPS * s * scale_per_id) + 0.0


# ------------------------------------------------------------------ Embedding

@pytest.mark.parametrize("padding_idx", [None, 3, -1])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32])
def test_embedding_forward_and_gradient_equal_torch(rng, padding_idx, sparse, dtype):
    ours, theirs = _pair("Embedding", padding_idx=padding_idx, sparse=sparse)
    ids = _ids(rng, 500, (16, 40)).to(dtype)
    ids[0, :5] = 3
    ids[1, :5] = 499
    g = torch.from_numpy(rng.standard_normal((16, 40, 24)).astype(np.float32))
    yo, yt = ours(ids), theirs(ids)
    assert yo.dtype == torch.float32 and yo.shape == (16, 40, 24)
    assert torch.equal(yo, yt)
    yo.backward(g)
    yt.backward(g)
    assert ours.weight.grad.is_sparse == sparse == theirs.weight.grad.is_sparse
    # torch's coalesce() re-orders duplicates (an unstable sort): compare the densified sums
    np.testing.assert_array_equal(_dense(ours.weight.grad), _dense(theirs.weight.grad))
    if sparse:  # ours is coalesced already: one row per id, ids ascending, no padding row
        # (autograd's accumulation into .grad drops the flag; torch.autograd.grad keeps it)
        gi = torch.autograd.grad(ours(ids).sum(), ours.weight)[0]
        assert gi.is_coalesced()
        u = ours.weight.grad._indices()[0].numpy()
        np.testing.assert_array_equal(u, gi.indices()[0].numpy())
        pad = None if padding_idx is None else padding_idx % 500
        np.testing.assert_array_equal(u, np.setdiff1d(np.unique(ids.numpy()), [] if pad is None else [pad]))


def test_embedding_shapes_scalar_and_empty(rng):
    ours, theirs = _pair("Embedding")
    for ids in (torch.tensor(7), torch.zeros(0, dtype=torch.long), torch.zeros((3, 0), dtype=torch.long),
                torch.tensor([[[1, 2], [3, 4]]]), torch.arange(40).reshape(8, 5).t()):  # non-contiguous
        yo, yt = ours(ids), theirs(ids)
        assert yo.shape == yt.shape and torch.equal(yo, yt)
        yo.sum().backward()
        yt.sum().backward()
        np.testing.assert_array_equal(_dense(ours.weight.grad), _dense(theirs.weight.grad))


def test_embedding_scale_grad_by_freq_within_bound(rng):
    """torch computes acc + g * (1 / count) as one FMA per term; we round the product: the rows
    differ by at most k eps sum|terms| (k occurrences of the id)."""
    ours, theirs = _pair("Embedding", scale_grad_by_freq=True, padding_idx=0)
    ids = _ids(rng, 500, (20, 30), dup=10)
    g = torch.from_numpy(rng.standard_normal((20, 30, 24)).astype(np.float32))
    ours(ids).backward(g)
    theirs(ids).backward(g)
    a, b = _dense(ours.weight.grad), _dense(theirs.weight.grad)
    flat = ids.reshape(-1).numpy()
    k = np.bincount(flat, minlength=500).astype(np.float64)
    s = np.zeros((500, 24))
    np.add.at(s, flat, np.abs(g.reshape(-1, 24).numpy()) / np.maximum(k[flat], 1)[:, None])
    assert (np.abs(a.astype(np.float64) - b) <= k[:, None] * EPS * s).all()
    assert not a[0].any()
    # sparse with scale_grad_by_freq: torch refuses, we give the same rows as our dense gradient
    sp = fet.Embedding.from_pretrained(ours.weight.detach().clone(), freeze=False, scale_grad_by_freq=True,
                                       padding_idx=0, sparse=True)
    sp(ids).backward(g)
    np.testing.assert_array_equal(_dense(sp.weight.grad), a)


def test_embedding_max_norm_equals_torch(rng):
    for norm_type in (2.0, 1.0):
        ours, theirs = _pair("Embedding", max_norm=1.5, norm_type=norm_type)
        ids = _ids(rng, 500, (4, 30))
        yo, yt = ours(ids), theirs(ids)
        assert torch.equal(yo, yt)
        assert torch.equal(ours.weight, theirs.weight)  # renormalised in place, the same rows
        if norm_type == 2.0:
            assert (ours.table.norms(1)[np.unique(ids.numpy())] <= 1.5 * (1 + 1e-6)).all()
    with pytest.raises(IndexError, match="id 500 at position"):
        ours(torch.tensor([1, 500]))


def test_bag_max_norm_equals_torch(rng):
    ours, theirs = _pair("EmbeddingBag", mode="sum", max_norm=2.0)
    ids, offsets = _bag_inputs(rng)
    assert torch.equal(ours(ids, offsets), theirs(ids, offsets))
    assert torch.equal(ours.weight, theirs.weight)


def test_meta_device_modules_are_checked_when_they_run():
    m = fet.Embedding(10, 3, device="meta")  # built lazily, as frameworks do before loading weights
    with pytest.raises(ValueError, match=r"the weight is on meta; fastembed's kernels run on the CPU \(module.cpu\(\)\)"):
        m(torch.tensor([1]))
    m.to_empty(device="cpu")
    assert m(torch.tensor([1])).shape == (1, 3)


def test_embedding_threads_give_the_same_bits(rng):
    ids = _ids(rng, 500, (64, 64))
    g = torch.from_numpy(rng.standard_normal((64, 64, 24)).astype(np.float32))
    got = []
    for nt in (1, 2):
        m = fet.Embedding.from_pretrained(torch.ones(500, 24), freeze=False, n_threads=nt)
        y = m(ids)
        y.backward(g)
        got.append((y.detach().numpy(), m.weight.grad.numpy()))
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])


def test_frozen_weight_gets_no_gradient():
    m = fet.Embedding.from_pretrained(torch.randn(10, 3))
    y = m(torch.tensor([1, 2]))
    assert not y.requires_grad and m.weight.grad is None


# ------------------------------------------------------------------ EmbeddingBag

def _bag_inputs(rng, V=500, B=30, max_len=25, last=False):
    lengths = rng.integers(0, max_len + 1, B)
    lengths[3] = 0
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    ids = _ids(rng, V, int(lengths.sum()))
    if last:
        offsets = np.append(offsets, ids.numel())
    return ids, torch.from_numpy(offsets.astype(np.int64))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding_idx", [None, 7])
@pytest.mark.parametrize("last", [False, True])
def test_bag_forward_and_gradient_equal_torch(rng, mode, padding_idx, last):
    """Forward bit for bit; weight gradient bit for bit against torch's sparse gradient (its dense
    one for max, which torch cannot make sparse) and within the reassociation bound against
    torch's dense gradient (which sums each id's terms in the order of an unstable sort)."""
    ids, offsets = _bag_inputs(rng, last=last)
    ids[::4] = 7
    B = offsets.numel() - (1 if last else 0)
    g = torch.from_numpy(rng.standard_normal((B, 24)).astype(np.float32))
    for sparse in (False, True):
        kw = dict(mode=mode, padding_idx=padding_idx, include_last_offset=last)
        ours, theirs = _pair("EmbeddingBag", sparse=sparse, **kw)
        if mode == "max" and sparse:
            theirs = torch.nn.EmbeddingBag.from_pretrained(theirs.weight.detach().clone(), freeze=False, **kw)
        yo, yt = ours(ids, offsets), theirs(ids, offsets)
        assert torch.equal(yo, yt), mode
        yo.backward(g)
        yt.backward(g)
        a, b = _dense(ours.weight.grad), _dense(theirs.weight.grad)
        if theirs.sparse or mode == "max":
            np.testing.assert_array_equal(a, b)
        else:
            counts = np.diff(np.append(offsets.numpy()[:B], ids.numel()))
            if padding_idx is not None:
                counts = np.array([(ids.numpy()[o:o + c] != padding_idx).sum() for o, c in
                                   zip(offsets.numpy()[:B], counts)])
            per = np.repeat(np.arange(B), np.diff(np.append(offsets.numpy()[:B], ids.numel())))
            terms = g.numpy()[per] / (np.maximum(counts, 1)[per][:, None] if mode == "mean" else 1)
            bound = _terms_bound(ids, terms, 500) * (1 + 2 * EPS)
            assert (np.abs(a.astype(np.float64) - b) <= bound).all()
        if padding_idx is not None:
            assert not a[padding_idx].any()


@pytest.mark.parametrize("mode", MODES)
def test_bag_2d_equals_torch(rng, mode):
    ours, theirs = _pair("EmbeddingBag", mode=mode, padding_idx=0, sparse=mode != "max")
    ids = _ids(rng, 500, (12, 9))
    ids[2] = 0  # a bag of only padding
    yo, yt = ours(ids), theirs(ids)
    assert torch.equal(yo, yt) and not yo[2].any()
    g = torch.from_numpy(rng.standard_normal((12, 24)).astype(np.float32))
    yo.backward(g)
    yt.backward(g)
    np.testing.assert_array_equal(_dense(ours.weight.grad), _dense(theirs.weight.grad))


def test_bag_per_sample_weights(rng):
    """Forward within one rounding per term (torch's kernel fuses acc + w * row into an FMA);
    the weight gradient bit for bit (torch's sparse gradient); the per_sample_weights gradient
    (dot products, summed in another order) within D eps |g|.|row|."""
    ids, offsets = _bag_inputs(rng)
    ids[::5] = 2
    psw = torch.from_numpy(rng.standard_normal(ids.numel()).astype(np.float32))
    ours, theirs = _pair("EmbeddingBag", mode="sum", sparse=True, padding_idx=2)
    po, pt = psw.clone().requires_grad_(), psw.clone().requires_grad_()
    yo, yt = ours(ids, offsets, po), theirs(ids, offsets, pt)
    W = ours.weight.detach().numpy()
    per = np.repeat(np.arange(30), np.diff(np.append(offsets.numpy(), ids.numel())))
    keep = ids.numpy() != 2
    mag = np.zeros((30, 24))
    np.add.at(mag, per[keep], np.abs(psw.numpy()[keep, None] * W[ids.numpy()[keep]]))
    assert (np.abs(yo.detach().numpy().astype(np.float64) - yt.detach().numpy()) <= 2 * 26 * EPS * mag).all()
    g = torch.from_numpy(rng.standard_normal((30, 24)).astype(np.float32))
    yo.backward(g)
    yt.backward(g)
    np.testing.assert_array_equal(_dense(ours.weight.grad), _dense(theirs.weight.grad))
    dot_mag = np.abs(W[ids.numpy()] * g.numpy()[per]).sum(1)
    assert (np.abs(po.grad.numpy().astype(np.float64) - pt.grad.numpy()) <= 2 * 24 * EPS * dot_mag).all()
    assert not po.grad.numpy()[~keep].any()
    # 2-D bags too
    ids2 = _ids(rng, 500, (6, 5))
    p2 = torch.from_numpy(rng.standard_normal((6, 5)).astype(np.float32)).requires_grad_()
    p2t = p2.detach().clone().requires_grad_()
    ours(ids2, per_sample_weights=p2).sum().backward()
    theirs(ids2, per_sample_weights=p2t).sum().backward()
    np.testing.assert_allclose(p2.grad.numpy(), p2t.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_bag_scale_grad_by_freq_within_bound(rng):
    """Each id's gradient divided by its frequency in the batch, as nn.Embedding's documented
    scale_grad_by_freq. torch 2.13's EmbeddingBag divides some ids by another id's count (CPU dense
    backward, pytorch/pytorch#190063), so the reference is torch's Embedding (scale_grad_by_freq)
    pooled per bag by index_add; it fuses acc + g / count into one FMA per term: within
    2 k eps sum|terms| for an id occurring k times."""
    w = torch.zeros(4, 3, requires_grad=True)
    torch.nn.functional.embedding_bag(torch.tensor([1, 1, 3]), w, torch.tensor([0]), mode="sum",
                                      scale_grad_by_freq=True).sum().backward()
    torch_bug = w.grad[3, 0].item() == 0.5
    m = fet.EmbeddingBag(4, 3, mode="sum", scale_grad_by_freq=True)
    m(torch.tensor([1, 1, 3]), torch.tensor([0])).sum().backward()
    assert m.weight.grad[:, 0].tolist() == [0.0, 1.0, 0.0, 1.0] and (torch_bug or w.grad[3, 0] == 1.0)
    for mode in ("sum", "mean"):
        ours, _ = _pair("EmbeddingBag", mode=mode, scale_grad_by_freq=True, padding_idx=4)
        ids, offsets = _bag_inputs(rng)
        ids[::7] = 4
        g = torch.from_numpy(rng.standard_normal((30, 24)).astype(np.float32))
        ours(ids, offsets).backward(g)
        ref = ours.weight.detach().clone().requires_grad_()
        per = torch.from_numpy(np.repeat(np.arange(30), np.diff(np.append(offsets.numpy(), ids.numel()))))
        rows = torch.nn.functional.embedding(ids, ref, padding_idx=4, scale_grad_by_freq=True)
        counts = torch.zeros(30).index_add_(0, per, (ids != 4).float())
        if mode == "mean":
            rows = rows * (1 / counts.clamp(min=1))[per, None]
        torch.zeros(30, 24).index_add(0, per, rows).backward(g)
        a, b = _dense(ours.weight.grad), ref.grad.numpy()
        flat = ids.numpy()
        k = np.bincount(flat, minlength=500).astype(np.float64)
        terms = np.abs(g.numpy()[per.numpy()]) / k[flat][:, None]
        if mode == "mean":
            terms /= np.maximum(counts.numpy(), 1)[per.numpy()][:, None]
        s = np.zeros((500, 24))
        np.add.at(s, flat, terms)
        assert (np.abs(a.astype(np.float64) - b) <= 2 * (k[:, None] + 1) * EPS * s).all(), mode
        assert not a[4].any()


# ------------------------------------------------------------------ optimizers

def _train(m, opt_cls, ids_seq, **kw):
    opt = opt_cls(m.parameters(), **kw)
    for ids in ids_seq:
        opt.zero_grad()
        y = m(ids)
        (y * y).sum().backward()
        opt.step()
    return m.weight.detach().numpy().copy()


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_dense_optimizer_steps_equal_torch(rng, opt):
    ids_seq = [_ids(rng, 500, (8, 10)) for _ in range(4)]
    ours, theirs = _pair("Embedding", padding_idx=1)
    cls = getattr(torch.optim, opt)
    np.testing.assert_array_equal(_train(ours, cls, ids_seq, lr=0.1), _train(theirs, cls, ids_seq, lr=0.1))


def test_sparse_optimizer_steps(rng):
    """With unique ids per batch the sparse gradients are the same tensors: SGD and SparseAdam
    steps equal torch's bit for bit. With duplicates, torch's SGD adds each occurrence to the
    weight separately while ours adds the summed row once: a few roundings apart."""
    uniq = [torch.from_numpy(rng.permutation(500)[:40].reshape(4, 10)) for _ in range(4)]
    for cls, kw in ((torch.optim.SGD, {"lr": 0.5}), (torch.optim.SparseAdam, {"lr": 0.1})):
        ours, theirs = _pair("Embedding", sparse=True)
        np.testing.assert_array_equal(_train(ours, cls, uniq, **kw), _train(theirs, cls, uniq, **kw))
    dup = [_ids(rng, 500, (8, 10), dup=5) for _ in range(4)]
    for cls, kw in ((torch.optim.SGD, {"lr": 0.05}), (torch.optim.SparseAdam, {"lr": 0.1})):
        ours, theirs = _pair("Embedding", sparse=True)
        np.testing.assert_allclose(_train(ours, cls, dup, **kw), _train(theirs, cls, dup, **kw), rtol=1e-5, atol=1e-6)


def test_bag_trains_with_sparse_adam(rng):
    ours, theirs = _pair("EmbeddingBag", mode="sum", sparse=True)
    opts = [torch.optim.SparseAdam(m.parameters(), lr=0.05) for m in (ours, theirs)]
    for _ in range(3):
        ids, offsets = _bag_inputs(rng)
        for m, o in zip((ours, theirs), opts):
            o.zero_grad()
            m(ids, offsets).pow(2).sum().backward()
            o.step()
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ the shared table, saving

def test_table_shares_the_weight_and_follows_the_optimizer():
    m = fet.Embedding(50, 8)
    t = m.table
    assert isinstance(t, EmbeddingTable)
    assert np.shares_memory(t.weights, m.weight.detach().numpy())
    before = t.inv_norms().copy()
    opt = torch.optim.SGD(m.parameters(), lr=1.0)
    m(torch.tensor([3])).sum().mul(10).backward()
    opt.step()
    after = t.inv_norms()
    assert after[3] != before[3] and np.array_equal(np.delete(after, 3), np.delete(before, 3))
    assert m.table is t  # cached while the parameter and its storage stay


def test_table_is_rebuilt_when_the_weight_changes():
    m = fet.Embedding(20, 4)
    t = m.table
    m.weight = torch.nn.Parameter(torch.zeros(20, 4))
    assert m.table is not t and not m.table.weights.any()
    m.double()
    with pytest.raises(TypeError, match=r"fastembed.torch modules hold float32 weights, got torch.float64 "
                                        r"\(module.float\(\) converts it\)"):
        m(torch.tensor([1]))
    m.float()
    assert m(torch.tensor([1])).shape == (1, 4)


def test_state_dict_and_torch_save(tmp_path):
    m = fet.EmbeddingBag(30, 5, mode="max", padding_idx=2)
    sd = m.state_dict()
    assert list(sd) == ["weight"]
    torch.save(sd, tmp_path / "sd.pt")
    m2 = fet.EmbeddingBag(30, 5, mode="max", padding_idx=2)
    t2 = m2.table
    m2.load_state_dict(torch.load(tmp_path / "sd.pt"))  # weights_only=True: a plain tensor dict
    assert torch.equal(m2.weight, m.weight)
    assert m2.table is t2 and np.array_equal(t2.weights, m.weight.detach().numpy())  # copied in place
    buf = io.BytesIO()
    m.table  # a cached table is not pickled
    torch.save(m, buf)
    buf.seek(0)
    m3 = torch.load(buf, weights_only=False)
    assert type(m3) is fet.EmbeddingBag and repr(m3) == repr(m)
    ids = torch.tensor([[1, 2, 3]])
    assert torch.equal(m3(ids), m(ids))
    assert np.shares_memory(m3.table.weights, m3.weight.detach().numpy())


def test_from_pretrained_sources(tmp_path):
    W = np.random.default_rng(0).standard_normal((12, 4)).astype(np.float32)
    w = torch.from_numpy(W.copy())
    m = fet.Embedding.from_pretrained(w)
    assert not m.weight.requires_grad and m.weight.data_ptr() == w.data_ptr()  # shared, as torch
    t = EmbeddingTable(W.copy(), vocab=[f"k{i}" for i in range(12)], padding_idx=0)
    m = fet.EmbeddingBag.from_pretrained(t, freeze=False, mode="sum")
    assert m.padding_idx == 0 and m.weight.requires_grad
    assert np.shares_memory(m.weight.detach().numpy(), t.weights)
    assert m.table.vocab is t.vocab and m.table["k3"].tolist() == W[3].tolist()
    m = fet.Embedding.from_pretrained(W.astype(np.float64))
    assert m.weight.dtype == torch.float32 and np.array_equal(m.weight.numpy(), W)
    from fastembed import io as feio
    feio.save(EmbeddingTable(W, vocab=[f"k{i}" for i in range(12)]), tmp_path / "d", format="native")
    ro = feio.load(tmp_path / "d", mmap=True)
    m = fet.Embedding.from_pretrained(ro)  # torch has no read-only tensors: a copy
    assert np.array_equal(m.weight.numpy(), W) and not np.shares_memory(m.weight.numpy(), ro.weights)
    with pytest.raises(TypeError, match="this table is stored as float16: pass table.astype"):
        fet.Embedding.from_pretrained(EmbeddingTable(W, dtype="float16"))
    with pytest.raises(ValueError, match=r"embeddings must be 2-D \(num_embeddings, embedding_dim\), got shape \(3,\)"):
        fet.Embedding.from_pretrained(torch.zeros(3))
    with pytest.raises(TypeError, match="embeddings must be a torch.Tensor, a numpy array or an EmbeddingTable, got list"):
        fet.Embedding.from_pretrained([[1.0]])


# ------------------------------------------------------------------ errors

def test_errors():
    m = fet.Embedding(10, 3)
    with pytest.raises(TypeError, match="input must be an integer tensor \\(torch.long or torch.int\\), got torch.float32"):
        m(torch.tensor([1.0]))
    with pytest.raises(IndexError, match=r"id 10 at position \(0, 1\) is out of range for a table of 10 rows"):
        m(torch.tensor([[1, 10]]))
    with pytest.raises(IndexError, match=r"id -1 at position \(0,\) is out of range"):
        m(torch.tensor([-1]))
    with pytest.raises(TypeError, match="fastembed.torch modules hold float32 weights, got torch.float16"):
        fet.Embedding(10, 3, dtype=torch.float16)
    with pytest.raises(ValueError, match="the weight must be C-contiguous to be shared with a fastembed table"):
        fet.Embedding.from_pretrained(torch.zeros(3, 10).t())(torch.tensor([1]))
    with pytest.raises(ValueError, match="mode must be one of 'sum', 'mean', 'max', got 'median'"):
        fet.EmbeddingBag(10, 3, mode="median")
    with pytest.raises(ValueError, match="mode='max' does not support scale_grad_by_freq"):
        fet.EmbeddingBag(10, 3, mode="max", scale_grad_by_freq=True)
    b = fet.EmbeddingBag(10, 3, mode="mean")
    with pytest.raises(ValueError, match=r"per_sample_weights is only supported with mode='sum' \(as torch\)"):
        b(torch.tensor([[1, 2]]), per_sample_weights=torch.ones(1, 2))
    with pytest.raises(TypeError, match="per_sample_weights must be float32 like the weight, got torch.float64"):
        b(torch.tensor([[1, 2]]), per_sample_weights=torch.ones(1, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="1-D ids need offsets"):
        b(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="offsets must be non-decreasing"):
        b(torch.tensor([1, 2, 3]), torch.tensor([0, 2, 1]))
    with pytest.raises(TypeError, match="offsets must be an integer tensor"):
        b(torch.tensor([1, 2, 3]), torch.tensor([0.0]))


def test_ids_changed_in_place_before_backward_are_refused():
    m = fet.Embedding(10, 3)
    ids = torch.tensor([1, 2])
    y = m(ids)
    ids[0] = 5
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_importing_fastembed_does_not_import_torch():
    code = "import sys, fastembed, fastembed.io, fastembed.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ torch in, torch out

def test_pooling_takes_and_returns_tensors(rng):
    W = rng.standard_normal((40, 6)).astype(np.float32)
    ids, offsets = torch.tensor([1, 2, 3, 4, 5]), torch.tensor([0, 2])
    out = pooling.bag(W, ids, offsets, mode="sum")
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), pooling.bag(W, ids.numpy(), offsets.numpy(), mode="sum"))
    out, arg = pooling.bag(W, ids, offsets, mode="max", return_argmax=True)
    assert isinstance(out, torch.Tensor) and isinstance(arg, torch.Tensor)
    u, r = pooling.bag_backward(W, ids, offsets, torch.ones(2, 6), "max", argmax=arg)
    assert isinstance(u, torch.Tensor) and isinstance(r, torch.Tensor)
    u, r = pooling.bag_backward(W, ids, offsets, torch.ones(2, 6), "mean")
    assert u.tolist() == [1, 2, 3, 4, 5] and isinstance(r, torch.Tensor)
    buf = torch.empty(2, 6)
    assert pooling.bag(W, ids, offsets, out=buf) is buf
    np.testing.assert_array_equal(buf.numpy(), pooling.bag(W, ids.numpy(), offsets.numpy()))
    t = EmbeddingTable(W)
    assert isinstance(t.pool.bag(ids, offsets), torch.Tensor)
    assert isinstance(pooling.bag(t, ids, offsets), torch.Tensor)
    assert isinstance(pooling.bag(W, ids.numpy(), offsets.numpy()), np.ndarray)  # numpy in, numpy out


def test_table_lookup_and_embed_take_and_return_tensors(rng):
    W = rng.standard_normal((30, 5)).astype(np.float32)
    t = EmbeddingTable(W)
    ids = torch.tensor([[3, 0, 29], [7, 7, 1]])
    out = t.lookup(ids)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and tuple(out.shape) == (2, 3, 5)
    np.testing.assert_array_equal(out.numpy(), W[ids.numpy()])
    assert isinstance(t[ids], torch.Tensor)
    assert isinstance(t.lookup(ids.numpy()), np.ndarray)  # numpy in, numpy out
    buf = np.empty((2, 3, 5), np.float32)
    assert t.lookup(ids, out=buf) is buf  # an explicit out is returned as given
    P = rng.standard_normal((4, 5)).astype(np.float32)
    e = t.embed(ids, P)
    assert isinstance(e, torch.Tensor)
    np.testing.assert_array_equal(e.numpy(), t.embed(ids.numpy(), P))
    with pytest.raises(IndexError, match="30"):
        t.lookup(torch.tensor([30]))
