using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Reference.Tests.Support;

namespace Reference.Gateway.Tests.Support;

/// <summary>
/// A real Kestrel backend on a loopback port standing in for an API replica: it echoes what it
/// received, can answer slowly, streams server-sent events, and can be stopped and started again
/// on the same port.
/// </summary>
public sealed class FakeBackend : IAsyncDisposable
{
    private WebApplication? _app;

    public FakeBackend(string name, int? port = null)
    {
        Name = name;
        Port = port ?? Loopback.FreePort();
    }

    public string Name { get; }
    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Requests received per path (health probes included).</summary>
    public ConcurrentDictionary<string, int> Hits { get; } = new();

    public int ApiHits => Hits.Where(h => h.Key.StartsWith("/api/", StringComparison.Ordinal)).Sum(h => h.Value);

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(Url);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();

        app.Use((context, next) =>
        {
            Hits.AddOrUpdate(context.Request.Path.Value ?? "", 1, (_, n) => n + 1);
            return next(context);
        });
        app.MapGet("/health", () => Results.Text($"backend {Name} health"));
        app.MapGet("/alive", () => Results.Text($"backend {Name} alive"));
        app.MapGet("/api/uploads/{id}/events", StreamEvents);
        // The connection dropped after the request arrived, as a replica dying mid-request does.
        app.Map("/api/inventory/cut-off", context =>
        {
            context.Abort();
            return Task.CompletedTask;
        });
        app.Map("/api/{**rest}", Echo);
        app.MapGet("/api/inventory/image.png", () => Results.Bytes(new byte[4096], "image/png"));

        await app.StartAsync();
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task Echo(HttpContext context)
    {
        if (int.TryParse(context.Request.Query["delayMs"], out var delay))
        {
            await Task.Delay(delay, context.RequestAborted);
        }

        long bodyBytes = 0;
        var buffer = new byte[81920];
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            bodyBytes += read;
        }

        context.Response.Headers.Server = "Kestrel";
        await context.Response.WriteAsJsonAsync(new EchoResponse(
            Name,
            context.Request.Method,
            context.Request.Path + context.Request.QueryString,
            bodyBytes,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            // Padding makes the JSON large enough to be worth compressing.
            new string('x', 2048)));
    }

    /// <summary>Three status events with pauses between them, like UploadApi's stream.</summary>
    private async Task StreamEvents(HttpContext context, string id, int? pauseMs)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        foreach (var status in new[] { "Pending", "Processing", "Ready" })
        {
            await context.Response.WriteAsync($"event: status\ndata: {{\"id\":\"{id}\",\"status\":\"{status}\"}}\n\n");
            await context.Response.Body.FlushAsync();
            if (status != "Ready")
            {
                await Task.Delay(pauseMs ?? 700, context.RequestAborted);
            }
        }

        FinishedStreams[id] = true;
    }

    /// <summary>Event streams (by upload id) whose last event has been written.</summary>
    public ConcurrentDictionary<string, bool> FinishedStreams { get; } = new();
}

public sealed record EchoResponse(string Backend, string Method, string Path, long BodyBytes, Dictionary<string, string> Headers, string Padding);
