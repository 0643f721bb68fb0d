// A pipeline stage over layers [first, end) of a ToyMlp, with one activation cache per micro-batch.
using LightGlm.Pipeline;

namespace LightGlm.Tests.Pipeline.Toy;

public sealed class ToyStage : IPipelineStage
{
    readonly ToyMlp _model;
    readonly int _first, _end, _paramBase;
    readonly float[] _grads;
    ToyBatch _batch = new([], [], 1);
    (int Start, int Count)[] _micro = [];
    int _normaliser;
    float[][][] _acts = []; // [micro][j] = input of layer first+j (j = 0) or its output (j ≥ 1), (rows, width)
    double[] _loss = [];

    public ToyStage(ToyMlp model, int firstLayer, int endLayer)
    {
        if (firstLayer < 0 || endLayer > model.Layers || firstLayer >= endLayer)
            throw new ArgumentOutOfRangeException(nameof(firstLayer), $"layers [{firstLayer}, {endLayer}) of a {model.Layers}-layer model");
        _model = model; _first = firstLayer; _end = endLayer;
        _paramBase = model.ParameterOffset(firstLayer);
        _grads = new float[model.ParameterOffset(endLayer) - _paramBase];
    }

    public ToyMlp Model => _model;
    public int ParameterStart => _paramBase;
    public int ParameterEnd => _paramBase + _grads.Length;
    bool IsFirst => _first == 0;
    bool IsLast => _end == _model.Layers;

    /// <summary>Binds the step's data: rows [rowStart, rowStart+rowCount) of <paramref name="batch"/> split into
    /// <paramref name="micro"/> micro-batches; losses are divided by <paramref name="globalRows"/>.</summary>
    public void SetStep(ToyBatch batch, int rowStart, int rowCount, int micro, int globalRows)
    {
        _batch = batch; _normaliser = globalRows;
        _micro = new (int, int)[micro];
        for (int m = 0; m < micro; m++) { var (a, n) = BatchSplit.Part(rowCount, micro, m); _micro[m] = (rowStart + a, n); }
        if (_acts.Length < micro) Array.Resize(ref _acts, micro);
        if (_loss.Length < micro) Array.Resize(ref _loss, micro);
        for (int m = 0; m < micro; m++)
        {
            _acts[m] ??= new float[_end - _first + 1][];
            for (int j = 0; j <= _end - _first; j++)
            {
                int need = _micro[m].Count * _model.Widths[_first + j];
                if (_acts[m][j] is null || _acts[m][j].Length < need) _acts[m][j] = new float[need];
            }
        }
    }

    public int MicroBatches => _micro.Length;
    public int InputLength(int micro) => IsFirst ? 0 : _micro[micro].Count * _model.Widths[_first];
    public int OutputLength(int micro) => IsLast ? 0 : _micro[micro].Count * _model.Widths[_end];
    public Memory<float> Gradients => _grads;
    public void ZeroGradients() => Array.Clear(_grads);
    public double Loss(int micro) => IsLast ? _loss[micro] : 0;

    public long CacheBytes(int micro)
    {
        long n = 0;
        for (int j = 0; j <= _end - _first; j++) n += _micro[micro].Count * (long)_model.Widths[_first + j];
        return 4 * n;
    }

    public void Forward(int micro, ReadOnlySpan<float> input, Span<float> output)
    {
        var (start, rows) = _micro[micro];
        var acts = _acts[micro];
        int w0 = _model.Widths[_first];
        (IsFirst ? _batch.X.AsSpan(start * w0, rows * w0) : input).CopyTo(acts[0]);
        for (int i = _first; i < _end; i++)
            _model.LayerForward(i, acts[i - _first], acts[i - _first + 1], rows);
        if (!IsLast) acts[_end - _first].AsSpan(0, output.Length).CopyTo(output);
    }

    public void Backward(int micro, ReadOnlySpan<float> dOutput, Span<float> dInput)
    {
        var (start, rows) = _micro[micro];
        var acts = _acts[micro];
        var dy = new float[rows * _model.Widths[_end]];
        if (IsLast) _loss[micro] = ToyMlp.CrossEntropy(acts[_end - _first].AsSpan(0, dy.Length), _batch.Y.AsSpan(start, rows), dy, _model.Classes, _normaliser);
        else dOutput.CopyTo(dy);
        for (int i = _end - 1; i >= _first; i--)
        {
            bool wantDx = i > _first || !IsFirst;
            var dx = wantDx ? (i > _first ? new float[rows * _model.Widths[i]] : null) : null;
            Span<float> dxSpan = i > _first ? dx : (IsFirst ? Span<float>.Empty : dInput);
            _model.LayerBackward(i, acts[i - _first], acts[i - _first + 1], dy, dxSpan, _grads, rows, _paramBase);
            if (dx is not null) dy = dx;
        }
    }

    /// <summary>SGD on this stage's layers with its (reduced) gradients.</summary>
    public void Sgd(float lr) => _model.Sgd(_grads, lr, ParameterStart, ParameterEnd);
}
