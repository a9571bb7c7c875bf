using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Reference.Bench.Report;
using Reference.Contracts;
using Reference.ImageWorker.Pipeline;
using Reference.Storage;
using Reference.Tests.Support;
using SixLabors.ImageSharp.Processing;

namespace Reference.Bench.Engine;

/// <summary>
/// The image engines, job by job: the worker's own <see cref="VariantWriter"/> (read, check,
/// decode, orient, strip, every default variant, encode, write each file with a flush to disk) on
/// each corpus image, single-threaded, with each engine run in turn on the same image so machine
/// noise falls on all of them alike.
/// </summary>
public static class EngineBench
{
    public const string FirstVersion = "imagesharp-v1";
    public const string ImageSharp = "imagesharp";
    public const string LibVips = "libvips";
    public const string ImageSharpTriangle = "imagesharp-triangle";

    public static readonly string[] DefaultEngines = [FirstVersion, ImageSharp, LibVips];

    /// <summary>What bench/run.sh records: the default ones plus the resampler tried and not kept.</summary>
    public static readonly string[] RecordedEngines = [FirstVersion, ImageSharp, ImageSharpTriangle, LibVips];

    public sealed record ImageResult(string Image, string Engine, double MedianMs, double MinMs, int Runs, double? PeakRssMb, double? JobMemoryMb);

    public sealed record Result(int Runs, int Warmups, double LoadBefore, double LoadAfter, IReadOnlyList<ImageResult> Images,
        IReadOnlyDictionary<string, double> CorpusMs);

    /// <summary>A storage root holding the corpus as originals, and one engine's job over it.</summary>
    public sealed class Workbench : IDisposable
    {
        public Workbench(IEnumerable<string> images)
        {
            Root = Directory.CreateTempSubdirectory("bench-engine-").FullName;
            Directory.CreateDirectory(Path.Combine(Root, "originals"));
            foreach (var image in images)
            {
                File.Copy(image, Path.Combine(Root, "originals", Path.GetFileName(image)));
            }
        }

        public string Root { get; }

        public Action<string> Job(string engine)
        {
            if (engine == FirstVersion)
            {
                var baseline = new BaselinePipeline(Root);
                return image => Run(id => baseline.Write(id, Path.Combine(Root, "originals", image)));
            }

            var options = Options.Create(new ImageOptions { Engine = engine == LibVips ? ImageEngineKind.LibVips : ImageEngineKind.ImageSharp });
            var store = new LocalImageStore(Root);
            IImageEngine? custom = engine switch
            {
                ImageSharp or LibVips => null,
                ImageSharpTriangle => new ImageSharpEngine(ImageSharpEngine.CreateConfiguration(256), 82, KnownResamplers.Triangle),
                _ => throw new ArgumentException($"Unknown engine '{engine}'."),
            };
            var writer = new VariantWriter(options, store, custom);
            return image => Run(id => writer.WriteAsync(id, $"originals/{image}").GetAwaiter().GetResult());
        }

        private void Run(Action<Guid> write)
        {
            var id = Guid.NewGuid();
            write(id);
            Directory.Delete(Path.Combine(Root, ImageStorage.VariantsFolder, id.ToString()), recursive: true);
        }

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }

    public static Result Run(IReadOnlyList<string> images, IReadOnlyList<string> engines, int runs, int warmups, bool memory, Action<string> log)
    {
        var loadBefore = Machine.LoadAverage();
        using var bench = new Workbench(images);
        var jobs = engines.ToDictionary(e => e, bench.Job);
        var names = images.Select(Path.GetFileName).ToList();
        var times = engines.ToDictionary(e => e, _ => names.ToDictionary(n => n!, _ => new List<double>()));

        for (var w = 0; w < warmups; w++)
        {
            foreach (var name in names)
            {
                foreach (var engine in engines)
                {
                    jobs[engine](name!);
                }
            }
        }

        for (var round = 0; round < runs; round++)
        {
            for (var i = 0; i < names.Count; i++)
            {
                // Interleaved, and in a rotating order, so neither engine always runs first after a switch.
                for (var k = 0; k < engines.Count; k++)
                {
                    var engine = engines[(round + i + k) % engines.Count];
                    var started = Stopwatch.GetTimestamp();
                    jobs[engine](names[i]!);
                    times[engine][names[i]!].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }

            log($"engine: round {round + 1}/{runs} done");
        }

        var results = new List<ImageResult>();
        foreach (var name in names)
        {
            foreach (var engine in engines)
            {
                var ms = times[engine][name!];
                (double? peak, double? job) = (null, null);
                if (memory)
                {
                    var measured = MeasureMemoryInChild(engine, images.First(p => Path.GetFileName(p) == name));
                    (peak, job) = (measured.PeakRssMb, measured.JobMemoryMb);
                }

                results.Add(new ImageResult(name!, engine, Math.Round(Stats.Median(ms), 1), Math.Round(ms.Min(), 1), ms.Count, peak, job));
            }

            log($"engine: {name} " + string.Join(", ", engines.Select(e => $"{e} {results.Last(r => r.Engine == e).MedianMs} ms")));
        }

        var corpus = engines.ToDictionary(e => e, e => Math.Round(results.Where(r => r.Engine == e).Sum(r => r.MedianMs), 1));
        return new Result(runs, warmups, loadBefore, Machine.LoadAverage(), results, corpus);
    }

    public sealed record MemoryResult(double PeakRssMb, double JobMemoryMb, double BaselineRssMb);

    /// <summary>
    /// Peak memory needs a process of its own: the child warms its engine on a small image, resets
    /// its peak (clear_refs), runs the job twice and reports the new peak.
    /// </summary>
    public static MemoryResult MeasureMemoryInChild(string engine, string imagePath)
    {
        using var child = SelfProcess.Start("engine-job", "--engine", engine, "--image", imagePath, "--runs", "2");
        var json = SelfProcess.ReadLineStartingWith(child, "RESULT ", TimeSpan.FromMinutes(2));
        child.WaitForExit();
        return JsonSerializer.Deserialize<MemoryResult>(json, BenchResults.Json)!;
    }

    /// <summary>The child side of <see cref="MeasureMemoryInChild"/>.</summary>
    public static void JobChild(Args args)
    {
        var imagePath = args.Get("image", "");
        var warmup = Corpus.Path("flow-720x1440-portrait.jpg");
        using var bench = new Workbench([imagePath, .. Path.GetFileName(imagePath) == Path.GetFileName(warmup) ? Array.Empty<string>() : [warmup]]);
        var job = bench.Job(args.Get("engine", ImageSharp));
        job(Path.GetFileName(warmup));
        GC.Collect();
        var baseline = Machine.Memory().CurrentMb;
        Machine.ResetPeakMemory();
        for (var i = 0; i < args.Get("runs", 2); i++)
        {
            job(Path.GetFileName(imagePath));
        }

        var peak = Machine.Memory().PeakMb;
        Console.WriteLine("RESULT " + JsonSerializer.Serialize(
            new MemoryResult(Math.Round(peak, 1), Math.Round(peak - baseline, 1), Math.Round(baseline, 1)), BenchResults.Line));
    }
}
