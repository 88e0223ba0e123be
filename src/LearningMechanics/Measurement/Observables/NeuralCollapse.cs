using LearningMechanics.Networks;
using LearningMechanics.Numerics;

namespace LearningMechanics.Measurement.Observables;

/// <summary>
/// Neural collapse metrics of the penultimate features H and the readout W (C × p) on a labelled data set
/// (Papyan et al. 2020; Zhu et al. 2021); each tends to 0 in the terminal phase of training:
/// NC1 = tr(Σ_W Σ_B⁺)/C (within-class variability relative to between-class);
/// NC2 = ‖M̃ᵀM̃/‖M̃ᵀM̃‖_F − (I − 11ᵀ/C)/√(C − 1)‖_F (distance of the centred class means' Gram from a simplex
/// ETF); NC3 = ‖W/‖W‖_F − M̃/‖M̃‖_F‖_F (self-duality of classifier and means, rows = classes);
/// NC4 = fraction of samples where the network's prediction differs from the nearest-class-mean rule.
/// </summary>
public static class NeuralCollapse
{
    public sealed record Result(double Nc1, double Nc2, double Nc3, double Nc4);

    public static Result Measure(Network<double> net, Matrix x, int[] labels, int classes)
    {
        if (labels.Length != x.Rows) throw new BadInputException($"{labels.Length} labels for {x.Rows} inputs.");
        if (net.OutputDim != classes) throw new BadInputException($"The network has {net.OutputDim} outputs for {classes} classes.");
        var h = Representations.Penultimate(net, x);
        var logits = Training.Trainer<double>.Predict(net, x);
        var w = net.EffectiveWeight(net.DenseCount - 1);
        return Measure(h, labels, classes, w, logits);
    }

    /// <summary>The metrics from features H (N × p), labels, classifier W (C × p) and the network's outputs (N × C).</summary>
    public static Result Measure(Matrix h, int[] labels, int classes, Matrix w, Matrix logits)
    {
        int n = h.Rows;
        int p = h.Cols;
        var means = new Matrix(classes, p);
        var counts = new int[classes];
        var global = new double[p];
        for (int i = 0; i < n; i++)
        {
            int c = labels[i];
            if (c < 0 || c >= classes) throw new BadInputException($"Label {c} at row {i} is out of range 0…{classes - 1}.");
            counts[c]++;
            var r = h.Row(i);
            for (int j = 0; j < p; j++) { means[c, j] += r[j]; global[j] += r[j] / n; }
        }
        for (int c = 0; c < classes; c++)
        {
            if (counts[c] == 0) throw new BadInputException($"Class {c} has no samples; neural collapse needs every class.");
            for (int j = 0; j < p; j++) means[c, j] /= counts[c];
        }
        var centred = new Matrix(classes, p);
        for (int c = 0; c < classes; c++) for (int j = 0; j < p; j++) centred[c, j] = means[c, j] - global[j];
        // Σ_W = (1/N) Σ (h − μ_c)(h − μ_c)ᵀ, Σ_B = (1/C) Σ_c μ̃_c μ̃_cᵀ.
        var dev = new Matrix(n, p);
        for (int i = 0; i < n; i++) for (int j = 0; j < p; j++) dev[i, j] = h[i, j] - means[labels[i], j];
        var sw = Matrix.Multiply(dev, dev, Transpose.Yes); Scale(sw, 1.0 / n);
        var sb = Matrix.Multiply(centred, centred, Transpose.Yes); Scale(sb, 1.0 / classes);
        var (ev, vec) = Lapack.SymmetricEigen(sb);
        double cutoff = ev.Max() * 1e-10 * p;
        double nc1 = 0;
        // tr(Σ_W Σ_B⁺) = Σ_k (v_kᵀ Σ_W v_k)/λ_k over the nonzero eigenpairs of Σ_B.
        for (int k = 0; k < p; k++)
        {
            if (ev[k] <= cutoff) continue;
            double q = 0;
            for (int a = 0; a < p; a++) { double s = 0; for (int b = 0; b < p; b++) s += sw[a, b] * vec[b, k]; q += vec[a, k] * s; }
            nc1 += q / ev[k];
        }
        nc1 /= classes;
        var gram = Matrix.Multiply(centred, centred, Transpose.No, Transpose.Yes);
        double gn = Frobenius(gram);
        double etfScale = 1 / Math.Sqrt(classes - 1.0);
        double nc2 = 0;
        for (int a = 0; a < classes; a++)
            for (int b = 0; b < classes; b++)
            {
                double etf = ((a == b ? 1 : 0) - 1.0 / classes) * etfScale;
                nc2 += Math.Pow(gram[a, b] / gn - etf, 2);
            }
        double wn = Frobenius(w);
        double mn = Frobenius(centred);
        double nc3 = 0;
        for (int i = 0; i < w.Data.Length; i++) nc3 += Math.Pow(w.Data[i] / wn - centred.Data[i] / mn, 2);
        int mismatch = 0;
        for (int i = 0; i < n; i++)
        {
            int net = Classification.ArgMax(logits.Row(i));
            int ncc = 0;
            double best = double.PositiveInfinity;
            for (int c = 0; c < classes; c++)
            {
                double d = 0;
                for (int j = 0; j < p; j++) d += Math.Pow(h[i, j] - means[c, j], 2);
                if (d < best) { best = d; ncc = c; }
            }
            if (net != ncc) mismatch++;
        }
        return new Result(nc1, Math.Sqrt(nc2), Math.Sqrt(nc3), (double)mismatch / n);
    }

    private static double Frobenius(Matrix m) => Math.Sqrt(m.Data.Sum(v => v * v));
    private static void Scale(Matrix m, double s) { for (int i = 0; i < m.Data.Length; i++) m.Data[i] *= s; }
}
