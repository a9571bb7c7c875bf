using Yarp.ReverseProxy.Configuration;

namespace Reference.Bench.Gateway;

/// <summary>YARP with nothing else: the floor under the gateway's own middleware, same YARP version.</summary>
public static class BareYarp
{
    public static async Task RunAsync(Args args)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{args.Get("port", 0)}");
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "inventory", ClusterId = "backend", Match = new RouteMatch { Path = "/api/inventory/{**catch-all}" } }],
            [new ClusterConfig
            {
                ClusterId = "backend",
                Destinations = new Dictionary<string, DestinationConfig> { ["backend"] = new() { Address = args.Get("backend", "") } },
            }]);
        var app = builder.Build();
        app.MapReverseProxy();
        await app.RunAsync();
    }
}
