using System.CommandLine;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using LearningMechanics.Experiments;
using LearningMechanics.Lab;
using LearningMechanics.Numerics;
using Spectre.Console;

using Table = Spectre.Console.Table;

namespace LearningMechanics.Cli
{
    /// <summary>
    /// The <c>lmech</c> command line (README.md, "Command line"). Exit codes: 0 ran (whatever the verdicts),
    /// 1 a claim could not be evaluated or the run failed, 2 bad input.
    /// </summary>
    public static class Lmech
    {
        public const int Ok = 0;
        public const int NotEvaluated = 1;
        public const int BadInput = 2;

        /// <summary>JSON for --json output: readable Unicode (σ, χ, …) rather than \u escapes.</summary>
        internal static readonly System.Text.Json.JsonSerializerOptions Json = new()
        {
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };

        public static int Main(string[] args) => Execute(args);

        /// <summary>Runs one command line and returns its exit code (used by tests too).</summary>
        public static int Execute(string[] args)
        {
            if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 120);
            var root = new RootCommand("LearningMechanics: theory predicts, a real network measures, the tool states the verdict.");
            root.Subcommands.Add(ListCommand());
            root.Subcommands.Add(RunCommand());
            root.Subcommands.Add(KernelCommand.Build());
            root.Subcommands.Add(CriticalityCommand.Build());
            root.Subcommands.Add(FiniteWidthCommand.Build());
            root.Subcommands.Add(PredictCommand.Build());
            root.Subcommands.Add(DmftCommand.Build());
            root.Subcommands.Add(TrainCommand.Build());
            root.Subcommands.Add(SpectraCommand.Build());
            root.Subcommands.Add(CoordCheckCommand.Build());
            root.Subcommands.Add(SweepCommand.Build());
            root.Subcommands.Add(LrSweepCommand.Build());
            root.Subcommands.Add(ScalingFitCommand.Build());
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var e in parsed.Errors) Console.Error.WriteLine($"error: {e.Message}");
                Console.Error.WriteLine("Try 'lmech --help'.");
                return BadInput;
            }
            if (NumberFormatError(parsed) is { } numberError)
            {
                Console.Error.WriteLine($"error: {numberError}");
                return BadInput;
            }
            if (Blas.FallbackWarning is { } warning) Console.Error.WriteLine($"warning: {warning}");
            try { return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }); }
            catch (BadInputException e) { Console.Error.WriteLine($"error: {e.Message}"); return BadInput; }
            catch (AggregateException e)
                when (e.Flatten().InnerExceptions is { Count: > 0 } inner && inner.All(x => x is BadInputException))
            {
                // Bad input found inside parallel work (e.g. a setting that makes every unit's architecture invalid).
                foreach (var message in inner.Select(x => x.Message).Distinct()) Console.Error.WriteLine($"error: {message}");
                return BadInput;
            }
            catch (UnitsFailedException e) { Console.Error.WriteLine($"error: {e.Message}"); return NotEvaluated; }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("error: cancelled; results finished before were saved.");
                return NotEvaluated;
            }
            catch (Exception e) when (Environment.GetEnvironmentVariable("LMECH_DEBUG") is null)
            {
                // A bug, not bad input: one clear line instead of a stack dump (LMECH_DEBUG=1 shows the trace).
                Console.Error.WriteLine($"error: internal error ({e.GetType().Name}): " +
                    $"{e.Message}. Results finished before were saved; set LMECH_DEBUG=1 for details and please report it.");
                return NotEvaluated;
            }
        }

        /// <summary>
        /// A numeric option written with a decimal comma or a digit separator ("0,05", "1,000", "1_000") is refused by name:
        /// the invariant culture the tool parses in would read "0,05" as 5, silently.
        /// </summary>
        private static string? NumberFormatError(ParseResult parsed)
        {
            Type[] numeric = [typeof(double), typeof(float), typeof(int), typeof(long), typeof(ulong)];
            for (var r = parsed.CommandResult; r is not null; r = r.Parent as CommandResult)
                foreach (var option in r.Children.OfType<OptionResult>())
                {
                    var type = Nullable.GetUnderlyingType(option.Option.ValueType) ?? option.Option.ValueType;
                    if (!numeric.Contains(type)) continue;
                    foreach (var token in option.Tokens)
                        if (token.Value.Contains(',') || token.Value.Contains('_'))
                            return $"{option.Option.Name}: '{token.Value}' is not a number. Write it with a decimal point and no " +
                                "digit separators (e.g. 0.05, 1000).";
                }
            return null;
        }

        private static Command ListCommand()
        {
            var cmd = new Command("list", "List every experiment: id, claim, source (author–year citations).");
            cmd.SetAction(_ =>
            {
                var table = new Table().AddColumns("id", "claim", "source");
                foreach (var e in Registry.All) table.AddRow(Markup.Escape(e.Id), Markup.Escape(e.Summary), Markup.Escape(e.Source));
                AnsiConsole.Write(table);
                return Ok;
            });
            return cmd;
        }

        private static Command RunCommand()
        {
            var id = new Argument<string>("experiment") { Description = "experiment id (see 'lmech list') or 'all'" };
            var quick = new Option<bool>("--quick") { Description = "quick mode (default): 5 s to 2 minutes per experiment on 2 cores" };
            var full = new Option<bool>("--full") { Description = "full mode: publication-size ensembles (minutes)" };
            var seed = new Option<ulong>("--seed") { Description = "random seed (fixes every draw)", DefaultValueFactory = _ => 42 };
            var outDir = new Option<string>("--out") { Description = "output folder", DefaultValueFactory = _ => "lmech-results" };
            var set = new Option<string[]>("--set")
            {
                Description = "override a setting, key=value (repeatable)",
                AllowMultipleArgumentsPerToken = false,
            };
            var unit = new Option<string?>("--unit")
            {
                Description = "measure one unit of a grid experiment into OUT/<id>/unit.json (what --executor starts)",
            };
            var sweepDir = new Option<string?>("--sweep-dir")
            {
                Description = "with --executor: the sweep folder of the units (default OUT/<id>/units-<hash>)",
            };
            var force = new Option<bool>("--force")
            {
                Description = "run even when the settings' estimated work or memory is beyond the limits (10¹⁴ operations, or the " +
                    "experiment's --full size where larger; 80 % of the machine's memory)",
            };
            var resume = new Option<bool>("--resume")
            {
                Description = "keep an experiment's finished result in OUT (same settings, seed, mode and version) instead of " +
                    "running it again, e.g. after an interrupted 'run all'",
            };
            var executor = new ExecutorOptions(null);
            var cmd = new Command("run", "Run an experiment: prediction, measurement, verdicts, report. With --executor local|slurm " +
                "a grid experiment's units run as separate processes or Slurm array tasks, then are judged here.")
            {
                id, quick, full, seed, outDir, set, unit, sweepDir, force, resume,
            };
            executor.AddTo(cmd);
            cmd.SetAction(p =>
            {
                if (p.GetValue(quick) && p.GetValue(full)) throw new BadInputException("--quick and --full exclude each other.");
                var mode = p.GetValue(full) ? RunMode.Full : RunMode.Quick;
                string which = p.GetValue(id)!;
                var experiments = which.Equals("all", StringComparison.OrdinalIgnoreCase) ? Registry.All : [Registry.Get(which)];
                var overrides = Settings.ParsePairs(p.GetValue(set) ?? []);
                // With several experiments each takes the settings it knows; one that none of them knows is a typo (a single
                // experiment's settings name the allowed keys themselves).
                foreach (var name in experiments.Count > 1 ? [.. overrides.Keys] : Array.Empty<string>())
                    if (!experiments.Any(e => e.Settings.Any(s => s.Key.Equals(name, StringComparison.OrdinalIgnoreCase))))
                        throw new BadInputException($"Unknown setting '{name}': no experiment of '{which}' has it (lmech list " +
                            "shows each experiment's settings).");
                string dir = p.GetValue(outDir)!;
                if (p.GetValue(unit) is { } key)
                    return MeasureUnit(experiments, key, new RunOptions(mode, p.GetValue(seed), dir, overrides));
                string? kind = executor.Kind(p);
                if (kind == "slurm") Lab.Sweeps.SlurmExecutor.RequireSbatch();
                // Validate every experiment's settings and the folder before any work starts.
                foreach (var e in experiments)
                    Runner.Prepare(e, new RunOptions(mode, p.GetValue(seed), dir, OverridesFor(e, overrides, experiments.Count),
                        Force: p.GetValue(force)));
                int code = Ok;
                using var interrupt = OnInterrupt(dir);
                foreach (var e in experiments)
                {
                    var options = new RunOptions(mode, p.GetValue(seed), dir, OverridesFor(e, overrides, experiments.Count),
                        Force: p.GetValue(force));
                    if (p.GetValue(resume) && Runner.Finished(e, options) is { } kept)
                    {
                        Console.WriteLine($"{e.Id}: kept {kept.RunId} (--resume): " + string.Join(", ",
                            VerdictText.Order.Select(v => $"{kept.Verdicts.Count(k => k == v.Text())} {v.Text()}")) + ".");
                        continue;
                    }
                    var progress = new ConsoleProgress(e.Id);
                    IUnitRunner? units = null;
                    if (kind is not null && e is IGridExperiment)
                        units = new Lab.Sweeps.SweepUnitRunner(new Lab.Sweeps.UnitExecutor(kind, executor.Jobs(p), executor.Slurm(p),
                            SweepCommand.LmechCommand(), p.GetValue(sweepDir)), dir, progress);
                    else if (kind is not null)
                        Console.WriteLine($"{e.Id} is not a grid experiment: it runs in this process.");
                    var run = Runner.Run(e, options with { Progress = progress, Units = units });
                    PrintClaims(run);
                    if (run.Count(Verdict.Inconclusive) > 0) code = NotEvaluated;
                }
                AnsiConsole.MarkupLine($"Index of all runs: [link]{Markup.Escape(Path.GetFullPath(Path.Combine(dir, "index.html")))}[/]");
                return code;
            });
            return cmd;
        }

        /// <summary>
        /// SIGINT and SIGTERM end <c>lmech run</c> at once with 130 or 143, but never inside <see cref="Runner.Save"/>: every
        /// experiment that finished is kept whole (files, database rows, index), and <c>--resume</c> skips it next time.
        /// </summary>
        private static IDisposable OnInterrupt(string dir)
        {
            void Handle(PosixSignalContext context)
            {
                context.Cancel = true;
                lock (Runner.SaveGate)
                {
                    // A closed standard error (the reader gone) must not keep the process alive.
                    try
                    {
                        Console.Error.WriteLine($"Interrupted ({context.Signal}): the experiments that finished are kept in {dir}; " +
                            "'lmech run … --resume' skips them.");
                    }
                    catch (IOException) { }
                    Environment.Exit(context.Signal == PosixSignal.SIGINT ? 130 : 143);
                }
            }
            var registrations = new[] { PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle) };
            return new Disposables(registrations);
        }

        private sealed class Disposables(IDisposable[] items) : IDisposable
        {
            public void Dispose() { foreach (var d in items) d.Dispose(); }
        }

        /// <summary>
        /// <c>lmech run ID --unit KEY</c>: one unit of a grid experiment, its measurement written atomically to
        /// <c>OUT/ID/unit.json</c> (the sweep task runner reads it from there).
        /// </summary>
        private static int MeasureUnit(IReadOnlyList<IExperiment> experiments, string key, RunOptions options)
        {
            if (experiments.Count != 1 || experiments[0] is not IGridExperiment grid)
                throw new BadInputException("--unit needs one grid experiment. Grid experiments: " +
                    string.Join(", ", Registry.All.OfType<IGridExperiment>().Select(e => e.Id)) + ".");
            // A unit is one part of a run whose work and memory were checked (or forced) when it was started: the whole
            // run's estimate does not apply to it.
            var settings = Runner.Prepare(grid, options with { Force = true });
            var context = new RunContext(options.Mode, options.Seed, settings, new ConsoleProgress($"{grid.Id} {key}"));
            var measurement = grid.Measure(context, key);
            string path = Path.Combine(options.OutDir, grid.Id, Lab.Sweeps.SweepTaskRunner.UnitFile);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Lab.Sweeps.SweepLayout.WriteAtomically(path, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["experiment"] = grid.Id, ["unit"] = key, ["seed"] = options.Seed, ["mode"] = options.Mode.ToString().ToLowerInvariant(),
                ["measurement"] = measurement,
            }));
            return Ok;
        }

        /// <summary>With 'run all', a --set applies to the experiments that declare the key; alone, every key must be known.</summary>
        private static Dictionary<string, string> OverridesFor(IExperiment e, Dictionary<string, string> all, int count) =>
            count == 1 ? all : all.Where(kv => e.Settings.Any(s => s.Key.Equals(kv.Key, StringComparison.OrdinalIgnoreCase)))
                                  .ToDictionary(kv => kv.Key, kv => kv.Value);

        private static void PrintClaims(RunRecord run)
        {
            var table = new Table
            {
                Title = new TableTitle($"{Markup.Escape(run.ExperimentId)} ({run.Mode.ToString().ToLowerInvariant()}, " +
                    $"seed {run.Seed}, {run.ElapsedSeconds:F1} s)"),
            };
            table.AddColumns("claim", "predicted", "competitor", "measured", "± SE", "tolerance", "resolution", "verdict");
            foreach (var c in run.Output.Claims)
            {
                string colour = c.Verdict switch
                {
                    Verdict.Pass => "green",
                    Verdict.Fail => "red",
                    Verdict.Refuted => "purple",
                    Verdict.NotDiscriminating => "grey",
                    _ => "yellow",
                };
                table.AddRow(Markup.Escape(c.Id), Fmt(c.Predicted), Fmt(c.Competitor), Fmt(c.Measured), Fmt(c.StdErr),
                    (c.Rule == ClaimRule.AtMost ? "≤ +" : c.Rule == ClaimRule.AtLeast ? "≥ " +
                        "−" : "") + Fmt(c.Tolerance), Fmt(c.Resolution),
                    $"[{colour}]{c.Verdict.Text()}[/]");
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"{VerdictText.Summary(run.Output.Claims)}. " +
                $"Report: [link]{Markup.Escape(Path.GetFullPath(Path.Combine(run.Directory, "report.html")))}[/]");
        }

        private static string Fmt(double? v) => v is { } x ? x.ToString("G4", System.Globalization.CultureInfo.InvariantCulture) : "—";
    }
}
