//! Profile pictures as images: what an upload must be, and the small square PNG made from it.
//! No I/O here; the use case (`usecases::pictures`) runs [`square_picture`] on a blocking thread.
//!
//! The upload is never stored or served as sent. Its format is decided by its first bytes (not
//! its name or the browser's Content-Type), it is decoded under [`image::Limits`] so that a
//! small file declaring a huge image (a decompression bomb) is refused from its header before
//! any pixel memory is taken, and it is cropped to its centre square and re-encoded: the PNG
//! written holds pixels only, so EXIF (GPS position, camera serial numbers) and every other
//! piece of metadata are gone.

use image::imageops::{self, FilterType};
use image::{DynamicImage, GenericImageView, ImageDecoder, ImageError, ImageFormat, ImageReader};
use std::io::Cursor;

/// The largest upload accepted: 5 MB.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// The widest and tallest image decoded, in pixels.
pub const MAX_DIMENSION: u32 = 8000;
/// Decoding may hold at most this much at once: an 8000×8000 image with alpha, and a margin for
/// the decoder's own buffers. (A decoder that would need more is refused, however small the file.)
const MAX_DECODING_BYTES: u64 = 8000 * 8000 * 4 + 16 * 1024 * 1024;
/// The side of the stored square, in pixels: twice the largest it is shown, for sharp screens.
pub const PICTURE_SIDE: u32 = 128;
/// What the stored picture is.
pub const STORED_CONTENT_TYPE: &str = "image/png";

/// Why an upload cannot become a picture. The messages are shown on the page as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PictureError {
    #[error("Choose a picture to upload first.")]
    Missing,
    #[error(
        "The picture is larger than 5 MB. Choose a smaller file, or save it at a lower quality."
    )]
    TooLarge,
    #[error(
        "The picture must be a PNG, JPEG or WebP image, and this file is none of them. Save it in one of those formats and try again."
    )]
    NotAnAcceptedFormat,
    #[error("The image is too large to process (max 8000×8000 pixels).")]
    TooManyPixels,
    #[error(
        "The picture could not be read: the file is damaged or incomplete. Save it again and try again."
    )]
    Unreadable,
}

/// The accepted format of `bytes`, from their signature.
pub fn accepted_format(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::WebP)
    } else {
        None
    }
}

/// Decodes an upload and makes the stored picture of it: the centre square, [`PICTURE_SIDE`]
/// pixels a side, upright (the JPEG or WebP orientation tag applied), as a PNG without metadata.
pub fn square_picture(upload: &[u8]) -> Result<Vec<u8>, PictureError> {
    if upload.is_empty() {
        return Err(PictureError::Missing);
    }
    if upload.len() > MAX_UPLOAD_BYTES {
        return Err(PictureError::TooLarge);
    }
    let format = accepted_format(upload).ok_or(PictureError::NotAnAcceptedFormat)?;
    let image = decode(upload, format)?;
    let (width, height) = image.dimensions();
    let side = width.min(height);
    if side == 0 {
        return Err(PictureError::Unreadable);
    }
    let square = imageops::crop_imm(&image, (width - side) / 2, (height - side) / 2, side, side);
    // Shrinking a large photo averages whole blocks of pixels (fast, and fine at this size);
    // enlarging a small one interpolates.
    let small = if side >= PICTURE_SIDE * 2 {
        imageops::thumbnail(&*square, PICTURE_SIDE, PICTURE_SIDE)
    } else {
        imageops::resize(&*square, PICTURE_SIDE, PICTURE_SIDE, FilterType::Triangle)
    };
    let mut png = Vec::new();
    small
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|error| {
            tracing::error!(%error, "encoding a picture failed");
            PictureError::Unreadable
        })?;
    Ok(png)
}

fn decode(upload: &[u8], format: ImageFormat) -> Result<DynamicImage, PictureError> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_DECODING_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(upload), format);
    reader.limits(limits);
    let refused = |error: ImageError| match error {
        ImageError::Limits(_) => PictureError::TooManyPixels,
        other => {
            tracing::info!(error = %other, "an uploaded picture could not be decoded");
            PictureError::Unreadable
        }
    };
    let mut decoder = reader.into_decoder().map_err(refused)?;
    let orientation = decoder.orientation().map_err(refused)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(refused)?;
    image.apply_orientation(orientation);
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, _| {
            if x < width / 2 {
                image::Rgb([200, 30, 30])
            } else {
                image::Rgb([30, 30, 200])
            }
        });
        let mut bytes = Vec::new();
        DynamicImage::ImageRgb8(image)
            .write_to(&mut Cursor::new(&mut bytes), format)
            .unwrap();
        bytes
    }

    #[test]
    fn a_wide_picture_becomes_its_centre_square_as_png() {
        let stored = square_picture(&encoded(300, 100, ImageFormat::Png)).unwrap();
        assert_eq!(accepted_format(&stored), Some(ImageFormat::Png));
        let decoded = image::load_from_memory(&stored).unwrap();
        assert_eq!(decoded.dimensions(), (PICTURE_SIDE, PICTURE_SIDE));
        // The centre of a half red, half blue picture: red on the left, blue on the right.
        let left = decoded.get_pixel(5, 64);
        let right = decoded.get_pixel(122, 64);
        assert!(left[0] > 150 && left[2] < 80, "{left:?}");
        assert!(right[2] > 150 && right[0] < 80, "{right:?}");
    }

    #[test]
    fn the_format_is_told_by_the_bytes() {
        assert_eq!(
            accepted_format(&encoded(2, 2, ImageFormat::Jpeg)),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(
            accepted_format(&encoded(2, 2, ImageFormat::WebP)),
            Some(ImageFormat::WebP)
        );
        assert_eq!(accepted_format(b"GIF89a\x01\x00\x01\x00"), None);
        assert_eq!(accepted_format(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(
            square_picture(b"hello, not an image"),
            Err(PictureError::NotAnAcceptedFormat)
        );
        assert_eq!(square_picture(b""), Err(PictureError::Missing));
    }

    #[test]
    fn a_photo_taken_sideways_is_turned_upright_by_its_orientation_tag() {
        // A wide red-then-blue JPEG whose EXIF says "rotate 90° clockwise to view" (6).
        let jpeg = encoded(300, 100, ImageFormat::Jpeg);
        let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01".to_vec();
        tiff.extend_from_slice(&[
            0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x06, 0, 0, 0, 0, 0, 0,
        ]);
        let mut segment = b"Exif\0\0".to_vec();
        segment.extend_from_slice(&tiff);
        let mut tagged = jpeg[..2].to_vec();
        tagged.extend_from_slice(&[0xFF, 0xE1]);
        tagged.extend_from_slice(&u16::try_from(segment.len() + 2).unwrap().to_be_bytes());
        tagged.extend_from_slice(&segment);
        tagged.extend_from_slice(&jpeg[2..]);

        let stored = image::load_from_memory(&square_picture(&tagged).unwrap()).unwrap();
        // Upright, the left (red) half is on top and the right (blue) half below.
        let top = stored.get_pixel(64, 5);
        let bottom = stored.get_pixel(64, 122);
        assert!(top[0] > 150 && top[2] < 90, "{top:?}");
        assert!(bottom[2] > 150 && bottom[0] < 90, "{bottom:?}");
    }

    #[test]
    fn a_truncated_picture_is_unreadable_not_a_panic() {
        let png = encoded(64, 64, ImageFormat::Png);
        assert_eq!(
            square_picture(&png[..png.len() / 2]),
            Err(PictureError::Unreadable)
        );
    }
}
