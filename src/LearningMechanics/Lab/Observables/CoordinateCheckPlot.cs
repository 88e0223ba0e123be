using LearningMechanics.Measurement.Observables;

namespace LearningMechanics.Lab.Observables;

/// <summary>The coordinate check's figure (Yang et al. 2022, Fig. 5): RMS(h_t − h_0) of every dense layer against log₂ width
/// at one step, rows of the same (width, layer) averaged (e.g. over seeds).</summary>
public static class CoordinateCheckPlot
{
    public static PlotSpec At(IEnumerable<CoordinateCheck.Row> rows, int step, string title, string caption)
    {
        var mine = rows.Where(r => r.Step == step).ToList();
        var widths = mine.Select(r => r.Width).Distinct().Order().ToArray();
        var series = mine.Select(r => r.Layer).Distinct().Order().Select(layer =>
        {
            var ws = widths.Where(n => mine.Any(r => r.Layer == layer && r.Width == n)).ToArray();
            return new SeriesSpec($"layer {layer}", [.. ws.Select(n => Math.Log2(n))],
                [.. ws.Select(n => mine.Where(r => r.Layer == layer && r.Width == n).Average(r => r.ChangeRms))], SeriesKind.Line);
        }).ToList();
        return new PlotSpec(title, "log₂ width", "RMS(h_t − h_0)", series, Caption: caption);
    }
}
