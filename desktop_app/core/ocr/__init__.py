"""Reading text in pictures (OCR) with RapidOCR's PP-OCR models, which ship inside its wheel."""
