using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace LearningMechanics.Lab.Reports;

/// <summary>Renders a <see cref="PlotSpec"/> to standalone SVG with OxyPlot (pure managed, no native code).</summary>
public static class PlotRenderer
{
    private static readonly OxyColor[] Palette =
        [OxyColor.Parse("#1f77b4"), OxyColor.Parse("#d62728"), OxyColor.Parse("#2ca02c"), OxyColor.Parse("#9467bd"),
         OxyColor.Parse("#ff7f0e"), OxyColor.Parse("#8c564b"), OxyColor.Parse("#e377c2"), OxyColor.Parse("#7f7f7f")];

    public static string ToSvg(PlotSpec spec, int width = 760, int height = 440)
    {
        var model = new PlotModel { Title = spec.Title, TitleFontSize = 14, DefaultFont = "Arial", PlotAreaBorderColor = OxyColors.Gray };
        model.Legends.Add(new Legend
        {
            LegendPosition = LegendPosition.TopRight, LegendPlacement = LegendPlacement.Inside, LegendFontSize = 11,
            LegendBackground = OxyColor.FromAColor(225, OxyColors.White), LegendBorder = OxyColors.LightGray,
        });
        model.Axes.Add(Axis(spec.LogX, AxisPosition.Bottom, spec.XLabel));
        model.Axes.Add(Axis(spec.LogY, AxisPosition.Left, spec.YLabel));
        // Series sharing a name prefix ("relu: …", "relu measured") share a colour.
        var colourOf = new Dictionary<string, OxyColor>();
        OxyColor Colour(string name)
        {
            string key = name.Split(' ', ':')[0];
            if (!colourOf.TryGetValue(key, out var c)) colourOf[key] = c = Palette[colourOf.Count % Palette.Length];
            return c;
        }
        foreach (var s in spec.Series)
        {
            var colour = Colour(s.Name);
            bool Valid(int i) =>
                double.IsFinite(s.X[i]) && double.IsFinite(s.Y[i]) && (!spec.LogX || s.X[i] > 0) && (!spec.LogY || s.Y[i] > 0);
            switch (s.Kind)
            {
                case SeriesKind.Line:
                    var line = new LineSeries
                    {
                        Title = s.Name, Color = colour, StrokeThickness = 1.8, LineStyle = s.Dashed ? LineStyle.Dash : LineStyle.Solid,
                    };
                    for (int i = 0; i < s.X.Length; i++) if (Valid(i)) line.Points.Add(new DataPoint(s.X[i], s.Y[i]));
                    model.Series.Add(line);
                    break;
                case SeriesKind.Points:
                    var pts = new ScatterErrorSeries
                    {
                        Title = s.Name, MarkerFill = colour, MarkerType = MarkerType.Circle, MarkerSize = 3.5, ErrorBarColor = colour,
                    };
                    for (int i = 0; i < s.X.Length; i++)
                        if (Valid(i))
                            pts.Points.Add(new ScatterErrorPoint(s.X[i], s.Y[i], 0,
                                s.YErr is null ? 0 : Math.Min(s.YErr[i], spec.LogY ? 0.999 * s.Y[i] : double.MaxValue)));
                    model.Series.Add(pts);
                    break;
                case SeriesKind.Bars:
                    var hist = new HistogramSeries
                    {
                        Title = s.Name, FillColor = OxyColor.FromAColor(110, colour), StrokeColor = colour, StrokeThickness = 0.5,
                    };
                    double h = s.X.Length > 1 ? s.X[1] - s.X[0] : 1;
                    for (int i = 0; i < s.X.Length; i++)
                        if (Valid(i)) hist.Items.Add(new HistogramItem(s.X[i] - h / 2, s.X[i] + h / 2, s.Y[i] * h, 1));
                    model.Series.Add(hist);
                    break;
            }
        }
        using var stream = new MemoryStream();
        using (var rc = new MeasuredSvgContext(stream, width, height, model.Background))
        {
            ((IPlotModel)model).Update(true);
            ((IPlotModel)model).Render(rc, new OxyRect(0, 0, width, height));
            rc.Complete();
            rc.Flush();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// SVG output with a conservative text measure: OxyPlot's default (PDF Helvetica metrics) reports text ~1.5×
    /// narrower than browsers draw it with common sans fonts, which clipped legends. Advances per character follow
    /// DejaVu/Liberation Sans roughly (narrow ≈ 0.3 em, wide ≈ 0.9 em, others 0.64 em); line height 1.25 em.
    /// </summary>
    private sealed class MeasuredSvgContext(Stream s, double width, double height, OxyColor background)
        : SvgRenderContext(s, width, height, true, new PdfRenderContext(width, height, background), background, false)
    {
        public override OxySize MeasureText(string text, string fontFamily, double fontSize, double fontWeight)
        {
            if (string.IsNullOrEmpty(text)) return OxySize.Empty;
            var lines = text.Split('\n');
            double widest = lines.Max(line => line.Sum(ch => ch switch
            {
                'i' or 'l' or 'j' or 'I' or '.' or ',' or ':' or ';' or '|' or '!' or '\'' or ' ' or '(' or ')' or 't' or 'f' or 'r'
                    => 0.33,
                'm' or 'w' or 'M' or 'W' or '—' => 0.92,
                _ when char.IsUpper(ch) => 0.7,
                _ => 0.64,
            }));
            double bold = fontWeight >= 600 ? 1.08 : 1.0;
            return new OxySize(widest * fontSize * bold, 1.25 * fontSize * lines.Length);
        }
    }

    private static Axis Axis(bool log, AxisPosition position, string title)
    {
        Axis axis = log ? new LogarithmicAxis() : new LinearAxis();
        axis.Position = position;
        axis.Title = title;
        axis.MajorGridlineStyle = LineStyle.Solid;
        axis.MajorGridlineColor = OxyColor.FromAColor(40, OxyColors.Black);
        axis.MinorGridlineStyle = LineStyle.None;
        return axis;
    }
}
