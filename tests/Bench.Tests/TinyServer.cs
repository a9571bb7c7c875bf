using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Reference.Bench.Tests;

/// <summary>A Kestrel server on a free loopback port that answers requests with a little JSON.</summary>
public sealed class TinyServer(WebApplication app) : IAsyncDisposable
{
    public Uri Address { get; } = new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public static async Task<TinyServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        // Chunked by default; /sized with a Content-Length, /missing a 404: the shapes a driver must read.
        app.Run(context => context.Request.Path.Value switch
        {
            "/missing" => Results.NotFound().ExecuteAsync(context),
            "/sized" => Results.Text("""{"ok":true}""", "application/json").ExecuteAsync(context),
            _ => context.Response.WriteAsync("""{"ok":true}"""),
        });
        await app.StartAsync();
        return new TinyServer(app);
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
