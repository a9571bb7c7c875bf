using Reference.Bench.EndToEnd;
using Reference.Bench.Engine;
using Reference.Bench.Gateway;
using Reference.Bench.Pages;
using Reference.Bench.Report;
using Reference.Bench.Scheduling;

namespace Reference.Bench;

public static class Commands
{
    public const string Usage = """
        usage: bench <command> [options]
          all        every benchmark below, then report (what bench/run.sh runs)
          engine     ms per job and peak memory per corpus image, each engine interleaved
                     --runs 7 --warmups 2 --engines imagesharp-v1,imagesharp,libvips --memory true --images a.jpg,b.png
          scaling    jobs/s with 1 and 2 worker processes   --seconds 15 --rounds 2 --engines imagesharp,libvips
          cold       a fresh worker process's first jobs against its warm ones, per runtime setting (tiered compilation, PGO, R2R)
                     --engine imagesharp --jobs 20 --rounds 3 --r2r path/to/ReadyToRun/Reference.Bench.dll --variants default,no-tiering
          gateway    gateway vs nginx 1.22, same backend, wrk   --seconds 10 --connections 32 --rounds 2
          e2e        the whole AppHost: uploads through the gateway, worker memory, inventory reads
                     --engine ImageSharp|LibVips --seconds 30 --concurrency 8 --singles 15 --rate 1000 --cache true
                     --telemetry production (1 trace in 10, as deploy/compose.yaml) | dev (every request traced)
                     --service-env NAME=value,NAME2=value   set on every service (experiments)
                     --replicas N (API replicas; default as the AppHost on this machine) --cold-uploads 200
                     --phases cold,memory,single,load,inventory[,coldworkers,coldfront] --label name (stored as e2e-<engine>-<name>)
                     --wait-webp true (the reads wait for the WebP pass to finish the uploads' copies; false: reads beside it)
                     --poll-ms 20 (how often each client asks for its upload's status)
          scheduling the elastic worker pool (scaler on): cold upload→Ready from 0 workers, a burst from an idle
                     pool against a static pool of the cap, idle memory with 0 and 2 workers
                     --tries 10 --burst 200 --clients 8 --max-workers 2 --idle-timeout 5 --interval 1 --phases memory,cold,burst
                     --min-workers 0 (the scaler's floor; the burst starts from it, with --phases burst)
          pages      image bytes of the grid and a product page in Chromium, WebP accepted vs JPEG only, and the
                     WebP pass's cost per upload (both engines)   --engine ImageSharp|LibVips --runs 3
          report     regenerate docs/performance.md tables and the chart from the results file
        common: --out bench/results/<date>.json
        """;

    public static async Task<int> RunAsync(Args args, string resultsPath, IReadOnlyList<string> images, Action<string> log)
    {
        switch (args.Command)
        {
            case "engine-job":
                EngineBench.JobChild(args);
                return 0;
            case "engine-cold-child":
                ColdStartBench.Child(args, images);
                return 0;
            case "cold":
            {
                var r2r = args.Get("r2r", "");
                var result = ColdStartBench.Measure(images, args.Get("engine", EngineBench.ImageSharp), args.Get("jobs", 20), args.Get("rounds", 3),
                    ColdStartBench.Variants(r2r.Length > 0 ? r2r : null).Where(v => args.List("variants", "").Length == 0 || args.List("variants", "").Contains(v.Name)).ToList(), log);
                BenchResults.Open(resultsPath).Set($"cold-{result.Engine}", result);
                return 0;
            }
            case "engine-loop":
                ScalingBench.LoopChild(args, images);
                return 0;
            case "engine":
            {
                var result = EngineBench.Run(images, args.List("engines", string.Join(',', EngineBench.DefaultEngines)),
                    args.Get("runs", 7), args.Get("warmups", 2), args.Get("memory", "true") == "true", log);
                BenchResults.Open(resultsPath).Set("engine", result);
                log($"engine: corpus ms per pass {string.Join(", ", result.CorpusMs.Select(kv => $"{kv.Key} {kv.Value}"))}");
                return 0;
            }
            case "scaling":
            {
                var result = ScalingBench.Measure(images, args.List("engines", "imagesharp,libvips"), args.Get("seconds", 15.0), args.Get("rounds", 2), log);
                BenchResults.Open(resultsPath).Set("scaling", result);
                return 0;
            }
            case "scheduling":
            {
                var result = await SchedulingBench.RunAsync(new SchedulingBench.Settings(
                    args.Get("tries", 10), args.Get("burst", 200), args.Get("clients", 8), args.Get("max-workers", 2),
                    TimeSpan.FromSeconds(args.Get("idle-timeout", 5.0)), TimeSpan.FromSeconds(args.Get("interval", 1.0)),
                    args.Get("phases", "memory,cold,burst"), args.Get("min-workers", 0)), log);
                BenchResults.Open(resultsPath).Set("scheduling", result);
                return 0;
            }
            case "bare-yarp":
                await BareYarp.RunAsync(args);
                return 0;
            case "gateway":
            {
                var result = await GatewayBench.MeasureAsync(args.Get("seconds", 10.0), args.Get("connections", 32), args.Get("rounds", 2),
                    args.Get("variants", "true") == "true", log);
                BenchResults.Open(resultsPath).Set("gateway", result);
                return 0;
            }
            case "e2e":
            {
                var settings = EndToEndSettings(args);
                var result = await EndToEndBench.RunAsync(settings, log, args.Get("phases", "cold,memory,single,load,inventory"));
                // --label keeps an experiment's run beside the recorded ones (e2e-imagesharp-2replicas) instead of replacing them.
                var label = args.Get("label", "");
                BenchResults.Open(resultsPath).Set($"e2e-{settings.Engine.ToLowerInvariant()}{(label.Length > 0 ? "-" + label : "")}", result);
                return 0;
            }
            case "pages":
            {
                var result = await PagesBench.RunAsync(args.Get("engine", "ImageSharp"), images, args.Get("runs", 3), log);
                var results = BenchResults.Open(resultsPath);
                results.Set("pages", result);
                MarkdownReport.Write(results, MarkdownReport.DocsFolder, log, only: ["pages"]);
                return 0;
            }
            case "report":
                MarkdownReport.Write(BenchResults.Open(resultsPath), MarkdownReport.DocsFolder, log);
                return 0;
            case "all":
            {
                var results = BenchResults.Open(resultsPath);
                results.Set("engine", EngineBench.Run(images, args.List("engines", string.Join(',', EngineBench.RecordedEngines)), args.Get("runs", 7), args.Get("warmups", 2), true, log));
                results.Set("scaling", ScalingBench.Measure(images, ["imagesharp", "libvips"], args.Get("scaling-seconds", 15.0), args.Get("rounds", 2), log));
                results.Set("gateway", await GatewayBench.MeasureAsync(args.Get("gateway-seconds", 10.0), 32, args.Get("rounds", 2), true, log));
                // Two starts of the whole system: one per engine; the second also turns the product cache off.
                results.Set("e2e-imagesharp", await EndToEndBench.RunAsync(EndToEndSettings(args) with { Engine = "ImageSharp", Cache = true }, log));
                results.Set("e2e-libvips", await EndToEndBench.RunAsync(EndToEndSettings(args) with { Engine = "LibVips", Cache = false }, log));
                results.Set("pages", await PagesBench.RunAsync("ImageSharp", images, args.Get("runs", 3), log));
                MarkdownReport.Write(results, MarkdownReport.DocsFolder, log);
                return 0;
            }
            default:
                Console.Error.WriteLine(Usage);
                return 2;
        }
    }

    private static EndToEndBench.Settings EndToEndSettings(Args args) => new(
        args.Get("engine", "ImageSharp"),
        args.Get("cache", "true") == "true",
        args.Get("seconds", 30.0),
        args.Get("concurrency", 8),
        args.Get("singles", 15),
        args.Get("rate", 1000.0),
        args.Get("rate-seconds", 15.0),
        args.Get("wrk-seconds", 10.0),
        Telemetry: args.Get("telemetry", "production"),
        RateWarmupSeconds: args.Get("rate-warmup", 15.0),
        ApiReplicas: args.Get("replicas", 0),
        ColdUploads: args.Get("cold-uploads", 200),
        WaitForWebp: args.Get("wait-webp", "true") == "true",
        PollMs: args.Get("poll-ms", 20.0),
        ServiceEnvironment: args.List("service-env", "").Select(pair => pair.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]));
}
