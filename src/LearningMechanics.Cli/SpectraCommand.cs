using System.CommandLine;
using System.Text.Json;
using LearningMechanics.Lab;
using LearningMechanics.Lab.Reports;
using LearningMechanics.Lab.Storage;
using LearningMechanics.Measurement.Observables;
using LearningMechanics.Numerics;
using Spectre.Console;

namespace LearningMechanics.Cli;

/// <summary>
/// <c>lmech spectra FILE.safetensors|FILE.onnx|FILE.npy|FOLDER</c>: for every 2-D tensor (an ONNX model's Gemm, MatMul and
/// reshaped Conv weights, <see cref="Onnx"/>), the eigenvalues λ = s²/n of (1/n)WWᵀ, a
/// Marchenko–Pastur fit of the bulk, the outliers above its edge and the power-law tail exponent (README.md, "Command line").
/// A folder is read as checkpoints over training (<c>lmech train --save-every</c>): its .safetensors files in name order,
/// so the bulk and the outliers can be followed over time. Spectra are of the stored tensors as they are in the file
/// (lmech's own files hold raw, pre-multiplier weights).
/// </summary>
internal static class SpectraCommand
{
    public static Command Build()
    {
        var file = new Argument<string>("file")
            { Description = "weights (.safetensors, .onnx), one matrix (.npy/.csv), or a folder of .safetensors checkpoints" };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var plot = new Option<string?>("--plot")
        {
            Description = "write an .svg plot: each tensor's top eigenvalues over the bulk edge λ₊ (above 1: outliers), per " +
                "checkpoint of a folder",
        };
        var cmd = new Command("spectra", "Weight spectra: Marchenko–Pastur bulk, outliers, power-law tail.") { file, json, plot };
        cmd.SetAction(p =>
        {
            string path = p.GetValue(file)!;
            string? plotPath = p.GetValue(plot);
            if (plotPath is not null && !plotPath.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
                throw new BadInputException($"--plot '{plotPath}' must end in .svg.");
            if (plotPath is not null) Runner.EnsureWritable(Path.GetDirectoryName(Path.GetFullPath(plotPath))!, "--plot FILE");
            string[] files = Directory.Exists(path)
                ? [.. Directory.GetFiles(path, "*.safetensors").Order(StringComparer.Ordinal)]
                : [path];
            if (files.Length == 0) throw new BadInputException($"Folder '{path}' holds no .safetensors files.");
            var checkpoints = files.Select(f => (File: f, Spectra: Analyse(f))).ToList();
            if (plotPath is not null) File.WriteAllText(plotPath, PlotRenderer.ToSvg(OverTime(checkpoints)));
            if (p.GetValue(json))
            {
                var described = checkpoints.Select(c => new Dictionary<string, object>
                {
                    ["file"] = Path.GetFullPath(c.File), ["matrices"] = c.Spectra.Select(Describe).ToList(),
                }).ToList();
                Console.WriteLine(JsonSerializer.Serialize(Directory.Exists(path)
                    ? new Dictionary<string, object> { ["folder"] = Path.GetFullPath(path), ["checkpoints"] = described }
                    : described[0], Lmech.Json));
                return Lmech.Ok;
            }
            var table = new Spectre.Console.Table();
            if (files.Length > 1) table.AddColumn("checkpoint");
            table.AddColumns("tensor", "shape", "MP σ²", "bulk edge λ₊", "outliers", "λ_max", "KS to MP", "tail α ± SE");
            foreach (var (f, spectra) in checkpoints)
                foreach (var s in spectra)
                {
                    string[] cells = [Markup.Escape(s.Name), $"{s.Rows}×{s.Cols}", F(s.Sigma2), F(s.BulkEdge),
                        s.Outliers.Length.ToString(), F(s.Eigenvalues[0]), F(s.KsDistance), $"{F(s.TailAlpha)} ± {F(s.TailAlphaStdErr)}"];
                    table.AddRow(files.Length > 1 ? [Markup.Escape(Path.GetFileNameWithoutExtension(f)), .. cells] : cells);
                }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("λ = s²/n for the n-long side; outliers lie above λ₊ plus three Tracy–Widom widths.");
            return Lmech.Ok;
        });
        return cmd;
    }

    /// <summary>Top eigenvalues over the fitted bulk edge, λ_k/λ₊ for k = 1…3, of every tensor at every checkpoint (x: the
    /// checkpoint's training step when its name ends in one, as <c>lmech train --save-every</c> writes them, else its
    /// index); a dashed line at 1 marks the edge (Lauditi et al. 2026, Figs. 2–3).</summary>
    private static PlotSpec OverTime(List<(string File, List<WeightSpectrum> Spectra)> checkpoints)
    {
        double[] x = [.. checkpoints.Select((c, i) => StepOf(c.File) ?? i)];
        var series = new List<SeriesSpec>();
        foreach (string name in checkpoints[0].Spectra.Select(s => s.Name))
            for (int k = 0; k < 3; k++)
            {
                double[] y = [.. checkpoints.Select(c => c.Spectra.FirstOrDefault(s => s.Name == name) is { } s && k < s.Eigenvalues.Length
                    && s.BulkEdge > 0 ? s.Eigenvalues[k] / s.BulkEdge : double.NaN)];
                series.Add(new SeriesSpec($"{name} λ{k + 1}", x, y, checkpoints.Count > 1 ? SeriesKind.Line : SeriesKind.Points));
            }
        series.Add(new SeriesSpec("bulk edge", [x.Min(), x.Max()], [1.0, 1.0], SeriesKind.Line, Dashed: true));
        bool steps = checkpoints.All(c => StepOf(c.File) is not null);
        return new PlotSpec("Top eigenvalues over the Marchenko–Pastur bulk edge", steps ? "training step" : "checkpoint",
            "λ_k / λ₊", series, LogY: true, Caption: "λ = s²/n for the n-long side; above 1 (the dashed line): outliers.");
    }

    /// <summary>The step of a checkpoint named step-N.safetensors, or null.</summary>
    private static double? StepOf(string file)
    {
        string stem = Path.GetFileNameWithoutExtension(file);
        int dash = stem.LastIndexOf('-');
        return dash >= 0 && int.TryParse(stem.AsSpan(dash + 1), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out int step) ? step : null;
    }

    /// <summary>The spectra of a file's 2-D tensors (a .npy/.csv file is one matrix).</summary>
    private static List<WeightSpectrum> Analyse(string path)
    {
        var matrices = new List<(string Name, Matrix M)>();
        if (Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var t in SafeTensors.Read(path).Tensors.Where(t => t.Shape.Length == 2 && t.Shape[0] >= 2 && t.Shape[1] >= 2))
                matrices.Add((t.Name, new Matrix((int)t.Shape[0], (int)t.Shape[1], t.Data)));
            if (matrices.Count == 0) throw new BadInputException($"{path} holds no 2-D tensor with at least 2 rows and columns.");
        }
        else if (Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var w in Onnx.ReadWeights(path).Where(w => w.Matrix.Rows >= 2 && w.Matrix.Cols >= 2))
                matrices.Add((w.Op.Length > 0 ? $"{w.Name} ({w.Op})" : w.Name, w.Matrix));
            if (matrices.Count == 0) throw new BadInputException($"{path} holds no weight matrix with at least 2 rows and columns.");
        }
        else matrices.Add((Path.GetFileNameWithoutExtension(path), DataFiles.ReadMatrix(path)));
        return [.. matrices.Select(m => WeightSpectrum.Analyse(m.Name, m.M))];
    }

    private static Dictionary<string, object?> Describe(WeightSpectrum s) => new()
    {
        ["name"] = s.Name, ["shape"] = new[] { s.Rows, s.Cols }, ["mp_sigma2"] = Finite(s.Sigma2), ["bulk_edge"] = Finite(s.BulkEdge),
        ["outliers"] = s.Outliers.Select(i => s.Eigenvalues[i]).ToArray(), ["ks_distance"] = Finite(s.KsDistance),
        ["tail_alpha"] = Finite(s.TailAlpha), ["tail_alpha_se"] = Finite(s.TailAlphaStdErr), ["tail_xmin"] = Finite(s.TailXmin),
        ["tail_count"] = s.TailCount, ["top_eigenvalues"] = s.Eigenvalues.Take(10).ToArray(),
    };

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;
    private static string F(double v) => v.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);
}
