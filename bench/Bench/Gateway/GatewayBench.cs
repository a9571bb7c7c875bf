using Reference.Bench.Load;
using Reference.Bench.Report;
using Reference.Tests.Support;

namespace Reference.Bench.Gateway;

/// <summary>
/// The gateway against nginx 1.22 as reverse proxies of the same backend on loopback: an nginx that
/// answers every request with the same small product JSON (the cheapest backend there is, so the
/// proxies are what is measured). Each proxy keeps connections to it alive. The same wrk command
/// runs against each in turn, in rounds. Beside the real gateway (Release build, Production, all its
/// middleware): the same gateway with parts switched off by configuration, and bare YARP, to show
/// what each part costs.
/// </summary>
public static partial class GatewayBench
{
    public const string ProductJson =
        """{"id":"5c1e0fd4-26a5-4d0a-2f5d-2b4c5d3e6f70","sku":"KITE-DELTA-150","name":"Delta Kite 150","description":"A forgiving delta for light winds and first flights.","category":"Kites","price":34.90,"currency":"EUR","stock":{"onHand":40,"reserved":0,"available":40},"images":[],"version":1}""";

    public const string Path = "/api/inventory/products/5c1e0fd4-26a5-4d0a-2f5d-2b4c5d3e6f70";

    public sealed record Target(string Name, string Description, int Port);

    public sealed record Run(string Target, int Round, Wrk.Result Result, double Load);

    public sealed record Summary(string Target, string Description, double RequestsPerSecond, double P50Ms, double P99Ms,
        double RequestsVersusNginx, double P99VersusNginx, long Errors);

    public sealed record Result(string Gateway, string WrkCommand, double Seconds, int Connections, int Rounds, IReadOnlyList<Run> Runs, IReadOnlyList<Summary> Targets);

    /// <summary>The Release build (bench/run.sh makes it), or the Debug one where only that exists (the smoke test).</summary>
    public static string GatewayAssembly =>
        new[] { "Release", "Debug" }.Select(c => System.IO.Path.Combine(RepoPaths.Root, "Gateway", "bin", c, "net10.0", "Reference.Gateway.dll")).FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException("Build the gateway first: dotnet build Gateway -c Release");

    public static bool CanRun => File.Exists("/usr/sbin/nginx") && Wrk.IsInstalled;

    public static async Task<Result> MeasureAsync(double seconds, int connections, int rounds, bool variants, Action<string> log)
    {
        using var servers = new Servers();
        var backendPort = servers.StartNginxBackend();
        var targets = new List<Target>
        {
            new("nginx", "nginx 1.22 (Debian), 2 workers, upstream keepalive 64, no access log", servers.StartNginxProxy(backendPort)),
            new("gateway", "the gateway as deploy/compose.yaml runs it: Release, Production, every middleware on, 1 trace in 10 recorded (no exporter)",
                servers.StartGateway(backendPort, ShippedTracing)),
        };
        if (variants)
        {
            targets.Add(new("gateway-no-route-limits", "the gateway with the route's rate limiter and request timeout off",
                servers.StartGateway(backendPort, [.. ShippedTracing, .. RouteLimitsOff])));
            targets.Add(new("gateway-no-limits-no-health", "… and active/passive health checks off",
                servers.StartGateway(backendPort, [.. ShippedTracing, .. RouteLimitsOff, .. HealthChecksOff])));
            targets.Add(new("gateway-no-limits-no-health-no-otel", "… and OpenTelemetry off (OTEL_SDK_DISABLED)",
                servers.StartGateway(backendPort, [.. RouteLimitsOff, .. HealthChecksOff, ("OTEL_SDK_DISABLED", "true")])));
            // Runtime settings, not middleware: what a deployment could set on the gateway without code.
            targets.Add(new("gateway-inline-sockets", "the gateway, all middleware, with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1",
                servers.StartGateway(backendPort, [.. ShippedTracing, ("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1")])));
            targets.Add(new("gateway-workstation-gc", "the gateway, all middleware, with workstation GC (DOTNET_gcServer=0)",
                servers.StartGateway(backendPort, [.. ShippedTracing, ("DOTNET_gcServer", "0")])));
            targets.Add(new("gateway-every-trace", "the gateway, all middleware, every request traced (the F5 loop's setting)",
                servers.StartGateway(backendPort, [])));
            targets.Add(new("bare-yarp", "YARP 2.3 alone: one route, one destination, no other middleware", servers.StartBareYarp(backendPort)));
        }

        foreach (var target in targets)
        {
            await WaitUntilAnswersAsync(target.Port);
            // Warm-up: JIT, connection pools. Not recorded.
            Wrk.Run(Url(target.Port), connections, Math.Min(3, seconds));
        }

        var runs = new List<Run>();
        for (var round = 0; round < rounds; round++)
        {
            var order = round % 2 == 0 ? targets : Enumerable.Reverse(targets).ToList();
            foreach (var target in order)
            {
                var load = Machine.LoadAverage();
                var result = Wrk.Run(Url(target.Port), connections, seconds);
                runs.Add(new Run(target.Name, round, result, load));
                log($"gateway: {target.Name}: {result.RequestsPerSecond} req/s, p50 {result.P50Ms} ms, p99 {result.P99Ms} ms, errors {result.Errors}");
            }
        }

        var nginx = Summarise(runs, targets[0], null);
        var summaries = targets.Select(t => Summarise(runs, t, nginx)).ToList();
        return new Result(System.IO.Path.GetRelativePath(RepoPaths.Root, GatewayAssembly), $"wrk -t2 -c{connections} -d{seconds}s --latency http://127.0.0.1:PORT{Path}", seconds, connections, rounds, runs, summaries);
    }

    // deploy/compose.yaml's default: a trace is recorded for one request in ten.
    private static readonly (string, string)[] ShippedTracing =
    [
        ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
    ];

    private static readonly (string, string)[] RouteLimitsOff =
    [
        ("ReverseProxy__Routes__inventory__RateLimiterPolicy", "Disable"),
        ("ReverseProxy__Routes__inventory__TimeoutPolicy", "Disable"),
    ];

    private static readonly (string, string)[] HealthChecksOff =
    [
        ("ReverseProxy__Clusters__inventoryapi__HealthCheck__Active__Enabled", "false"),
        ("ReverseProxy__Clusters__inventoryapi__HealthCheck__Passive__Enabled", "false"),
    ];

    private static Summary Summarise(IReadOnlyList<Run> runs, Target target, Summary? nginx)
    {
        var mine = runs.Where(r => r.Target == target.Name).Select(r => r.Result).ToList();
        var rps = Math.Round(Stats.Median(mine.Select(r => r.RequestsPerSecond).ToList()));
        var p50 = Math.Round(Stats.Median(mine.Select(r => r.P50Ms).ToList()), 2);
        var p99 = Math.Round(Stats.Median(mine.Select(r => r.P99Ms).ToList()), 2);
        return new Summary(target.Name, target.Description, rps, p50, p99,
            nginx is null ? 1 : Math.Round(rps / nginx.RequestsPerSecond, 2),
            nginx is null ? 1 : Math.Round(p99 / nginx.P99Ms, 2),
            mine.Sum(r => r.Errors));
    }

    private static string Url(int port) => $"http://127.0.0.1:{port}{Path}";

    private static async Task WaitUntilAnswersAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(Url(port));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Nothing answered 200 on port {port} within a minute.");
            }

            await Task.Delay(200);
        }
    }
}
