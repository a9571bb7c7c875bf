using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reference.UploadApi.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class SiblingConventions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_uploads",
                table: "uploads");

            migrationBuilder.RenameTable(
                name: "uploads",
                newName: "Uploads");

            migrationBuilder.RenameIndex(
                name: "IX_uploads_Status_NextAttemptAt",
                table: "Uploads",
                newName: "IX_Uploads_Status_NextAttemptAt");

            migrationBuilder.RenameIndex(
                name: "IX_uploads_ProductId",
                table: "Uploads",
                newName: "IX_Uploads_ProductId");

            migrationBuilder.RenameIndex(
                name: "IX_uploads_IdempotencyKey",
                table: "Uploads",
                newName: "IX_Uploads_IdempotencyKey");

            migrationBuilder.AddPrimaryKey(
                name: "PK_Uploads",
                table: "Uploads",
                column: "Id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_Uploads",
                table: "Uploads");

            migrationBuilder.RenameTable(
                name: "Uploads",
                newName: "uploads");

            migrationBuilder.RenameIndex(
                name: "IX_Uploads_Status_NextAttemptAt",
                table: "uploads",
                newName: "IX_uploads_Status_NextAttemptAt");

            migrationBuilder.RenameIndex(
                name: "IX_Uploads_ProductId",
                table: "uploads",
                newName: "IX_uploads_ProductId");

            migrationBuilder.RenameIndex(
                name: "IX_Uploads_IdempotencyKey",
                table: "uploads",
                newName: "IX_uploads_IdempotencyKey");

            migrationBuilder.AddPrimaryKey(
                name: "PK_uploads",
                table: "uploads",
                column: "Id");
        }
    }
}
