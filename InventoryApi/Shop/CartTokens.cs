using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Reference.InventoryApi.Shop;

/// <summary>
/// A cart token is <c>{cartId}.{signature}</c>: a random id and its HMAC, so any replica can tell a
/// token it issued from one made up, without storing tokens. The browser keeps it and sends it in
/// <see cref="Header"/>; holds and orders belong to the cart id.
/// </summary>
public sealed class CartTokens
{
    public const string Header = "X-Cart-Token";
    private const int IdBytes = 16;
    private const int SignatureBytes = 16;
    private readonly byte[] _key;

    public CartTokens(IOptions<ShopOptions> options, IConfiguration configuration)
    {
        var secret = options.Value.CartTokenKey is { Length: > 0 } configured
            ? configured
            : "cart-token:" + configuration[AdminKey.ConfigurationKey];
        _key = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
    }

    public string Issue()
    {
        var id = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(IdBytes));
        return $"{id}.{Sign(id)}";
    }

    /// <summary>The cart id of a token this service issued; null for anything else.</summary>
    public string? CartIdOf(string? token)
    {
        var dot = token?.IndexOf('.') ?? -1;
        if (token is null || dot <= 0 || token.Length > 64)
        {
            return null;
        }

        var id = token[..dot];
        var signature = Encoding.ASCII.GetBytes(token[(dot + 1)..]);
        return CryptographicOperations.FixedTimeEquals(signature, Encoding.ASCII.GetBytes(Sign(id))) ? id : null;
    }

    private string Sign(string id) =>
        Base64Url.EncodeToString(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(id)).AsSpan(0, SignatureBytes));
}
