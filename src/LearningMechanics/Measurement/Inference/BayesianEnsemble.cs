using LearningMechanics.Measurement.Ensembles;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.FiniteWidth;

namespace LearningMechanics.Measurement.Inference;

/// <summary>A self-normalised importance-sampling estimate with its per-sample influence ψ_s (Σψ_s = 0, SE² = Σψ_s²).</summary>
public sealed record ImportanceEstimate(double Value, double StdErr, double EffectiveSamples, double[] Influence)
{
    /// <summary>The difference of two estimates from the same draws, with the SE of the paired influences.</summary>
    public static (double Value, double StdErr) Difference(ImportanceEstimate a, ImportanceEstimate b)
    {
        double s = 0;
        for (int i = 0; i < a.Influence.Length; i++) { double d = a.Influence[i] - b.Influence[i]; s += d * d; }
        return (a.Value - b.Value, Math.Sqrt(s));
    }
}

/// <summary>
/// Exact Bayesian inference with a finite network prior by importance sampling over the prior, Rao–Blackwellised over
/// the readout layer. Given the last hidden layer, the outputs on the data set are exactly Gaussian, i.i.d. over the
/// output components, with the network's conditional kernel Ĝ (<see cref="ConditionalKernelEnsemble"/>). So the
/// posterior mean is E[w(Ĝ)·m(Ĝ)]/E[w(Ĝ)] over prior draws of the network, with the likelihood of the observations
/// w(Ĝ) = Π_i N(y_i; 0, Ĝ_AA + σ_ε²I) and the conditional posterior mean m_i(Ĝ) = Ĝ_βA(Ĝ_AA + σ_ε²I)⁻¹y_i: exact at any
/// width, also for noise-free observations (σ_ε² = 0, the setting of Roberts &amp; Yaida 2022, §6.4), where sampling outputs
/// could never hit the data. HMC over a narrow network's weights was not used: its posterior is multimodal (hidden-unit permutations and
/// sign flips) and mixing could not be certified, while these estimates carry an honest standard error and effective
/// sample size (ratio-estimator delta method).
/// </summary>
public static class BayesianEnsemble
{
    /// <summary>
    /// Posterior means and variances of every output component at test input <paramref name="test"/> given targets
    /// <paramref name="y"/> (rows: the training inputs 0…N_A−1) from conditional kernels <paramref name="kernels"/>[pair][net]
    /// over <paramref name="inputs"/> inputs, pairs in <see cref="ConditionalKernelEnsemble.Pairs"/> order. The variance is
    /// E_w[v(Ĝ) + m(Ĝ)²] − E_w[m(Ĝ)]² with v(Ĝ) = Ĝ_ββ − Ĝ_βA(Ĝ_AA + σ_ε²I)⁻¹Ĝ_Aβ the conditional variance.
    /// </summary>
    public static (ImportanceEstimate[] Mean, ImportanceEstimate[] Variance) Posterior(double[][] kernels, int inputs, Matrix y, int test,
        double noise = 0)
    {
        int na = y.Rows;
        int outputs = y.Cols;
        int nets = kernels[0].Length;
        if (na >= inputs || test < na || test >= inputs)
            throw new ArgumentException($"Test input {test} must follow the {na} training inputs among {inputs}.");
        var index = new int[inputs, inputs];
        for (int a = 0; a < inputs; a++) for (int b = 0; b < inputs; b++) index[a, b] = MultiInputVertex.PairIndex(a, b, inputs);
        var logW = new double[nets];
        var mean = new double[outputs, nets];
        var condVar = new double[nets];
        var chol = new double[na, na];
        var solved = new double[na];
        // solved = L⁻¹·rhs by forward substitution.
        void Forward(Func<int, double> rhs)
        {
            for (int a = 0; a < na; a++)
            {
                double v = rhs(a);
                for (int c = 0; c < a; c++) v -= chol[a, c] * solved[c];
                solved[a] = v / chol[a, a];
            }
        }
        for (int s = 0; s < nets; s++)
        {
            // Cholesky of S = Ĝ_AA + σ_ε²I.
            double logDet = 0;
            bool ok = true;
            for (int a = 0; a < na && ok; a++)
            {
                for (int b = 0; b <= a; b++)
                {
                    double v = kernels[index[a, b]][s] + (a == b ? noise : 0);
                    for (int c = 0; c < b; c++) v -= chol[a, c] * chol[b, c];
                    if (a == b)
                    {
                        if (!(v > 0)) { ok = false; break; }
                        chol[a, a] = Math.Sqrt(v); logDet += 2 * Math.Log(chol[a, a]);
                    }
                    else chol[a, b] = v / chol[b, b];
                }
            }
            if (!ok) { logW[s] = double.NegativeInfinity; continue; }   // a singular Ĝ_AA cannot produce noise-free data
            double lw = -0.5 * outputs * logDet;
            // v = Ĝ_ββ − ‖L⁻¹Ĝ_Aβ‖².
            int net = s;
            Forward(a => kernels[index[test, a]][net]);
            double cv = kernels[index[test, test]][s];
            for (int a = 0; a < na; a++) cv -= solved[a] * solved[a];
            condVar[s] = cv;
            for (int i = 0; i < outputs; i++)
            {
                int component = i;
                Forward(a => y[a, component]);
                double quad = 0;
                for (int a = 0; a < na; a++) quad += solved[a] * solved[a];
                lw -= 0.5 * quad;
                for (int a = na - 1; a >= 0; a--)
                {
                    double v = solved[a];
                    for (int c = a + 1; c < na; c++) v -= chol[c, a] * solved[c];
                    solved[a] = v / chol[a, a];
                }
                double m = 0;
                for (int a = 0; a < na; a++) m += kernels[index[test, a]][s] * solved[a];
                mean[i, s] = m;
            }
            logW[s] = lw;
        }
        double max = logW.Max();
        if (double.IsNegativeInfinity(max))
            throw new ArithmeticException("Every sampled network has a singular training kernel; the observations have zero likelihood.");
        var w = logW.Select(l => Math.Exp(l - max)).ToArray();
        double sw = w.Sum();
        double sw2 = w.Sum(x => x * x);
        double ess = sw * sw / sw2;
        var means = new ImportanceEstimate[outputs];
        var variances = new ImportanceEstimate[outputs];
        for (int i = 0; i < outputs; i++)
        {
            double m1 = 0;
            double m2 = 0;
            for (int s = 0; s < nets; s++)
                if (w[s] > 0) { m1 += w[s] * mean[i, s]; m2 += w[s] * (condVar[s] + mean[i, s] * mean[i, s]); }
            m1 /= sw; m2 /= sw;
            // Influences of the ratio estimators: ψ = w(f − E_w f)/Σw; for the variance A − B², ψ_A − 2B·ψ_B.
            var psiMean = new double[nets];
            var psiVar = new double[nets];
            double ssMean = 0;
            double ssVar = 0;
            for (int s = 0; s < nets; s++)
            {
                if (w[s] == 0) continue;
                double pm = w[s] * (mean[i, s] - m1) / sw;
                double pv = w[s] * (condVar[s] + mean[i, s] * mean[i, s] - m2) / sw - 2 * m1 * pm;
                psiMean[s] = pm; psiVar[s] = pv;
                ssMean += pm * pm; ssVar += pv * pv;
            }
            means[i] = new ImportanceEstimate(m1, Math.Sqrt(ssMean), ess, psiMean);
            variances[i] = new ImportanceEstimate(m2 - m1 * m1, Math.Sqrt(ssVar), ess, psiVar);
        }
        return (means, variances);
    }
}
