using System.Net;
using System.Net.Sockets;

namespace Reference.InventoryApi.Shop;

/// <summary>The shopper's address as the caps count it.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The gateway's X-Forwarded-For (it replaces whatever the client sent), applied by the forwarded-headers
    /// middleware. An IPv6 client counts by its /64: one household or phone gets a whole /64 and could
    /// otherwise take a new address for every hold.
    /// </summary>
    public static string Of(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes).ToString();
        }

        return address.ToString();
    }
}
