using LearningMechanics.Architecture;
using LearningMechanics.Numerics;

namespace LearningMechanics.Bench;

/// <summary>
/// The reference for the ensemble benchmarks: an MLP written directly as arrays and GEMM calls, without the layer
/// operations of <see cref="LearningMechanics.Networks.Network{T}"/> (the library's ensemble network before the layer types were
/// unified). Same draws and arithmetic, so the ratio shows what the one-description network costs.
/// </summary>
internal sealed class ReferenceMlp
{
    private readonly MlpSpec spec;
    private readonly double[][] weights;
    private readonly double[][] biases;
    private readonly Matrix[] pre;
    private readonly Matrix[] post;

    public ReferenceMlp(MlpSpec spec, int batch)
    {
        this.spec = spec;
        weights = Enumerable.Range(0, spec.Depth + 1).Select(l => new double[spec.FanOut(l) * spec.FanIn(l)]).ToArray();
        biases = Enumerable.Range(0, spec.Depth + 1).Select(l => new double[spec.FanOut(l)]).ToArray();
        pre = Enumerable.Range(0, spec.Depth + 1).Select(l => new Matrix(batch, spec.FanOut(l))).ToArray();
        post = Enumerable.Range(0, spec.Depth).Select(_ => new Matrix(batch, spec.Width)).ToArray();
    }

    public void Initialize(Rng rng)
    {
        for (int l = 0; l <= spec.Depth; l++)
        {
            rng.FillGaussian(weights[l]);
            rng.FillGaussian(biases[l]);
        }
    }

    public Matrix Forward(Matrix x)
    {
        double sw = Math.Sqrt(spec.Sw2);
        double sb = Math.Sqrt(spec.Sb2);
        Matrix input = x;
        for (int l = 0; l <= spec.Depth; l++)
        {
            int fanIn = spec.FanIn(l);
            int fanOut = spec.FanOut(l);
            var z = pre[l];
            for (int r = 0; r < x.Rows; r++)
            {
                var row = z.Row(r);
                for (int j = 0; j < fanOut; j++) row[j] = sb * biases[l][j];
            }
            Blas.Gemm(Transpose.No, Transpose.Yes, x.Rows, fanOut, fanIn, sw / Math.Sqrt(fanIn), input.Data, fanIn,
                weights[l], fanIn, 1.0, z.Data, fanOut);
            if (l == spec.Depth) break;
            spec.Activation.Apply(z.Data, post[l].Data);
            input = post[l];
        }
        return pre[spec.Depth];
    }
}
