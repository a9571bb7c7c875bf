using Microsoft.AspNetCore.HttpOverrides;
using Reference.InventoryApi.Shop;

namespace Microsoft.Extensions.Hosting;

/// <summary>The shop: cart tokens, capped holds, orders and their events.</summary>
internal static class ShopServices
{
    public static void AddShop(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ShopOptions>().Bind(builder.Configuration.GetSection(ShopOptions.Section));
        services.AddSingleton<CartTokens>();
        services.AddScoped<CartHolds>();
        services.AddScoped<ShopOrders>();
        services.AddSingleton<OrderEventPublisher>();
        services.AddHostedService(sp => sp.GetRequiredService<OrderEventPublisher>());

        // The caps count holds per client address, which only the gateway knows: it replaces any
        // X-Forwarded-For a client sends with the address it sees. The service is reachable only
        // through the gateway (loopback under the AppHost, an internal network in deploy/), so the
        // header is trusted from any peer, one hop deep.
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            o.ForwardLimit = 1;
            o.KnownIPNetworks.Clear();
            o.KnownProxies.Clear();
        });
    }
}
