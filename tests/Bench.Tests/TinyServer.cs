using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Reference.Bench.Tests;

/// <summary>A Kestrel server on a free loopback port that answers every request with a little JSON.</summary>
public sealed class TinyServer(WebApplication app) : IAsyncDisposable
{
    public Uri Address { get; } = new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public static async Task<TinyServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Run(context => context.Response.WriteAsync("""{"ok":true}"""));
        await app.StartAsync();
        return new TinyServer(app);
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
