namespace LearningMechanics.Architecture;

/// <summary>
/// One layer's step of the infinite-width kernel recursion for a pair of inputs (x, x′): the NNGP K(x, x′) and the NTK
/// Θ(x, x′) after the step from their values before it (Neal 1996; Lee et al. 2018; Jacot et al. 2018; Roberts &amp;
/// Yaida 2022, ch. 4 and 8). The step may also read each input's own variance K(x, x) and feature mean before it. Each
/// layer type's file holds its step and the formula; residual blocks keep their entry values on a stack.
/// </summary>
internal abstract class KernelStep
{
    /// <summary>
    /// The step for one pair: <paramref name="v1"/>, <paramref name="v2"/> are K(x, x) and K(x′, x′), <paramref name="m1"/>,
    /// <paramref name="m2"/> the feature means before the step; <paramref name="stack"/> holds residual entry values.
    /// </summary>
    public abstract void Pair(ref double k, ref double t, double v1, double v2, double m1, double m2, Span<double> stack, ref int sp);

    /// <summary>
    /// The step for a row of pairs (x, x′_j) sharing x: each entry gets exactly the arithmetic of <see cref="Pair"/>, so
    /// the results are bit-identical, with one dispatch per row. <paramref name="stack"/> rows are at least k.Length long.
    /// </summary>
    public abstract void Row(double v1, double m1, ReadOnlySpan<double> v2, ReadOnlySpan<double> m2, Span<double> k, Span<double> t,
        double[][] stack, ref int sp);

    /// <summary>The feature mean after the step, from the mean and variance K(x, x) before it (LayerNorm centres by it).</summary>
    public abstract double Mean(double mean, double variance, Stack<double> entryMeans);

    /// <summary>Throws <see cref="BadInputException"/> when the step is undefined for an input with this variance and mean.</summary>
    public virtual void Check(double variance, double mean)
    {
    }
}
