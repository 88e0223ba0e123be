namespace LearningMechanics.Lab;

/// <summary>How a series is drawn.</summary>
public enum SeriesKind { Line, Points, Bars }

/// <summary>One series of a plot: points (X, Y) with optional symmetric error bars.</summary>
public sealed record SeriesSpec(string Name, double[] X, double[] Y, SeriesKind Kind, double[]? YErr = null, bool Dashed = false);

/// <summary>
/// A plot described as data (title, axes, series), rendered by the report layer; experiments never depend on
/// a plotting library.
/// </summary>
public sealed record PlotSpec(string Title, string XLabel, string YLabel, IReadOnlyList<SeriesSpec> Series,
    bool LogX = false, bool LogY = false, string? Caption = null);
