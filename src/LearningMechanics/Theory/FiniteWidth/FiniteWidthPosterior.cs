using LearningMechanics.Data;
using LearningMechanics.Numerics;
using LearningMechanics.Theory.Kernels;

namespace LearningMechanics.Theory.FiniteWidth;

/// <summary>
/// Bayesian posterior mean of an MLP's outputs at test inputs, to order 1/n: E[z_{i;β} | y] = GpMean + (Metric + Vertex)/n.
/// Rows are test inputs, columns output components.
/// </summary>
/// <param name="GpMean">The infinite-width (NNGP) posterior mean m_{i;β} = K_{βA}(K_{AA} + σ_ε²)⁻¹y_i (seed 004 eq. 6.81).</param>
/// <param name="GpVariance">The NNGP posterior variance of z_β, K_{ββ} − K_{βA}(K_{AA} + σ_ε²)⁻¹K_{Aβ} (eq. 6.82).</param>
/// <param name="Metric">Coefficient of 1/n from the NLO metric G¹ in the GP formula.</param>
/// <param name="Vertex">Coefficient of 1/n from the four-point vertex (eq. 6.88's v-terms).</param>
public sealed record PosteriorMeanExpansion(Matrix GpMean, double[] GpVariance, Matrix Metric, Matrix Vertex)
{
    /// <summary>Total coefficient of 1/n.</summary>
    public double Correction(int test, int component) => Metric[test, component] + Vertex[test, component];

    /// <summary>The predicted posterior mean at hidden width n.</summary>
    public double MeanAt(int test, int component, double n) => GpMean[test, component] + Correction(test, component) / n;
}

/// <summary>
/// Bayesian inference with a finite-width MLP prior (seed 004 §6.4.2, eqs. 6.79–6.88). The prior of the outputs on the
/// data set D = A ∪ {β} is nearly Gaussian: covariance δ_ij(K + G¹/n) and connected four-point function
/// (1/n)[δ_{i₁i₂}δ_{i₃i₄}V_{(δ₁δ₂)(δ₃δ₄)} + 2 pairings] (eq. 4.77), from <see cref="MultiInputVertex"/>. Conditioning on
/// y_{i;α} = z_{i;α} + ε (σ_ε² = 0: the seed's exact observations) by the Edgeworth expansion of the joint density gives
/// E[z_{i;β}|y] = Σ_{βA}S⁻¹y_i + (1/6)Σ κ(a₁, a₂, a₃, w_{i;β})·He₃(y)_{a₁a₂a₃}, with S = K_{AA} + σ_ε²I, w = z_β − t·z_A,
/// t = S⁻¹K_{Aβ} and the Hermite tensor He₃ = ûûû − 3·û S⁻¹ (û = S⁻¹y). Written out with Ṽ_{(α₁α₂)(α₃)} =
/// V_{(α₁α₂)(α₃β)} − Σ_α t_α V_{(α₁α₂)(α₃α)}:
/// <code>
/// Vertex_i = ½[Σ_j Σ Ṽ_{(α₁α₂)(α₃)} û_{j;α₁}û_{j;α₂}û_{i;α₃}
///             − Σ_{α₁} û_{i;α₁}(2Σ Ṽ_{(α₁α₂)(α₃)}S⁻¹_{α₂α₃} + n_out Σ Ṽ_{(α₂α₃)(α₁)}S⁻¹_{α₂α₃})]
/// Metric_i = (G¹_{βA} − tᵀG¹_{AA}) S⁻¹ y_i
/// </code>
/// This is the seed's eq. 6.88 (its naive mean plus the v-terms, which Wick-contract to the same cubic and linear terms)
/// written with the vertex instead of the quartic coupling; the sum over j is the "wiring together" of output components
/// (eq. 6.89): at finite width y_j moves the prediction for component i ≠ j.
/// </summary>
public static class FiniteWidthPosterior
{
    /// <summary>
    /// The expansion for an MLP with <paramref name="hiddenLayers"/> hidden layers (outputs are layer L + 1) observed at
    /// <paramref name="xTrain"/> (N_A × d) with targets <paramref name="yTrain"/> (N_A × outputs) and Gaussian observation
    /// noise of variance <paramref name="noise"/> ≥ 0, predicted at each row of <paramref name="xTest"/>.
    /// </summary>
    public static PosteriorMeanExpansion Mean(Activation act, double sw2, double sb2, int hiddenLayers, Matrix xTrain, Matrix yTrain, Matrix xTest, double noise = 0)
    {
        if (yTrain.Rows != xTrain.Rows) throw new BadInputException($"Targets have {yTrain.Rows} rows for {xTrain.Rows} training inputs.");
        return Mean(OutputLayers(act, sw2, sb2, hiddenLayers, xTrain, xTest), yTrain, noise);
    }

    /// <summary>
    /// The output layer's kernel, vertex and NLO metric on A ∪ {β} for each test input β (β the last input): the part of
    /// the expansion that does not depend on the targets, to be reused for several of them.
    /// </summary>
    public static MultiInputVertexLayer[] OutputLayers(Activation act, double sw2, double sb2, int hiddenLayers, Matrix xTrain, Matrix xTest)
    {
        if (xTrain.Rows < 1) throw new BadInputException("The training set is empty.");
        if (xTest.Cols != xTrain.Cols) throw new BadInputException($"Test inputs have dimension {xTest.Cols}, training inputs {xTrain.Cols}.");
        if (hiddenLayers < 1) throw new BadInputException($"Hidden layers {hiddenLayers} must be ≥ 1.");
        return [.. Enumerable.Range(0, xTest.Rows).Select(b =>
            MultiInputVertex.Compute(act, sw2, sb2, Inputs.Gram(Matrix.Stack(xTrain, xTest.RowRange(b, 1))), hiddenLayers + 1)[^1])];
    }

    /// <summary>The expansion for targets <paramref name="yTrain"/> given <see cref="OutputLayers"/>.</summary>
    public static PosteriorMeanExpansion Mean(IReadOnlyList<MultiInputVertexLayer> layers, Matrix yTrain, double noise = 0)
    {
        int nb = layers.Count, outputs = yTrain.Cols;
        if (!(noise >= 0) || !double.IsFinite(noise)) throw new BadInputException($"Observation noise variance {noise} must be ≥ 0 and finite.");
        var gp = new Matrix(nb, outputs); var metric = new Matrix(nb, outputs); var vertex = new Matrix(nb, outputs);
        var gpVar = new double[nb];
        for (int b = 0; b < nb; b++)
        {
            if (layers[b].Inputs - 1 != yTrain.Rows) throw new BadInputException($"Targets have {yTrain.Rows} rows for {layers[b].Inputs - 1} training inputs.");
            var result = AtTestPoint(layers[b], yTrain, noise);
            for (int i = 0; i < outputs; i++) { gp[b, i] = result.Gp[i]; metric[b, i] = result.Metric[i]; vertex[b, i] = result.Vertex[i]; }
            gpVar[b] = result.Variance;
        }
        return new PosteriorMeanExpansion(gp, gpVar, metric, vertex);
    }

    /// <summary>The expansion at one test input, given the output layer's data on A ∪ {β} (β is the last input).</summary>
    public static (double[] Gp, double Variance, double[] Metric, double[] Vertex) AtTestPoint(MultiInputVertexLayer layer, Matrix y, double noise)
    {
        int na = layer.Inputs - 1, beta = na, outputs = y.Cols;
        var s = new Matrix(na, na);
        for (int a = 0; a < na; a++) for (int c = 0; c < na; c++) s[a, c] = layer.KernelAt(a, c) + (a == c ? noise : 0);
        Matrix p;
        try { p = Lapack.CholeskySolve(Lapack.Cholesky(s), Matrix.Identity(na)); }
        catch (NotPositiveDefiniteException)
        {
            throw new BadInputException("The training kernel K_AA + σ_ε²I is singular (repeated training inputs without observation noise); add noise or remove duplicates.");
        }
        var t = new double[na];
        for (int a = 0; a < na; a++) for (int c = 0; c < na; c++) t[a] += p[a, c] * layer.KernelAt(c, beta);
        double variance = layer.KernelAt(beta, beta);
        for (int a = 0; a < na; a++) variance -= t[a] * layer.KernelAt(a, beta);
        // û_j = S⁻¹y_j per output component.
        var u = new double[outputs, na];
        for (int j = 0; j < outputs; j++) for (int a = 0; a < na; a++) for (int c = 0; c < na; c++) u[j, a] += p[a, c] * y[c, j];
        // Ṽ_{(α₁α₂)(α₃)}: the vertex with its fourth input replaced by w = β − t·A.
        var vt = new double[na, na, na];
        for (int a1 = 0; a1 < na; a1++) for (int a2 = 0; a2 < na; a2++) for (int a3 = 0; a3 < na; a3++)
        {
            double v = layer.VertexAt(a1, a2, a3, beta);
            for (int a = 0; a < na; a++) v -= t[a] * layer.VertexAt(a1, a2, a3, a);
            vt[a1, a2, a3] = v;
        }
        // Contractions with S⁻¹: r₁[α₁] = Σ Ṽ_{(α₁α₂)(α₃)}S⁻¹_{α₂α₃}, r₂[α₁] = Σ Ṽ_{(α₂α₃)(α₁)}S⁻¹_{α₂α₃}.
        var r1 = new double[na]; var r2 = new double[na];
        for (int a1 = 0; a1 < na; a1++) for (int a2 = 0; a2 < na; a2++) for (int a3 = 0; a3 < na; a3++)
        {
            r1[a1] += vt[a1, a2, a3] * p[a2, a3];
            r2[a1] += vt[a2, a3, a1] * p[a2, a3];
        }
        // q[α₃] = Σ_j Σ_{α₁α₂} Ṽ_{(α₁α₂)(α₃)} û_{j;α₁}û_{j;α₂}: the part shared by every component i.
        var q = new double[na];
        for (int j = 0; j < outputs; j++)
            for (int a1 = 0; a1 < na; a1++) for (int a2 = 0; a2 < na; a2++) for (int a3 = 0; a3 < na; a3++) q[a3] += vt[a1, a2, a3] * u[j, a1] * u[j, a2];
        // G¹ part: (G¹_{βA} − tᵀG¹_{AA})S⁻¹y_i.
        var g = new double[na];
        for (int a = 0; a < na; a++)
        {
            g[a] = layer.MetricCorrectionAt(beta, a);
            for (int c = 0; c < na; c++) g[a] -= t[c] * layer.MetricCorrectionAt(c, a);
        }
        var gpMean = new double[outputs]; var metric = new double[outputs]; var vertex = new double[outputs];
        for (int i = 0; i < outputs; i++)
        {
            double cubic = 0, linear = 0;
            for (int a = 0; a < na; a++)
            {
                gpMean[i] += t[a] * y[a, i];
                metric[i] += g[a] * u[i, a];
                cubic += q[a] * u[i, a];
                linear += u[i, a] * (2 * r1[a] + outputs * r2[a]);
            }
            vertex[i] = 0.5 * (cubic - linear);
        }
        return (gpMean, variance, metric, vertex);
    }
}
